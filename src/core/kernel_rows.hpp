#pragma once

// Picking the rows of one kind out of a kernel dump.

#include <utility>
#include <variant>
#include <vector>

#include "core/kernel_events.hpp"

namespace ndproxy {

template <typename Event>
std::vector<Event> only(std::vector<KernelEvent> rows) {
    std::vector<Event> out;
    out.reserve(rows.size());
    for (KernelEvent& row : rows) {
        if (auto* event = std::get_if<Event>(&row)) {
            out.push_back(std::move(*event));
        }
    }
    return out;
}

}  // namespace ndproxy
