#pragma once

// The one clock of the policies and the event loop: monotonic, so that a change of the wall
// clock neither fires nor delays a timer.

#include <chrono>

namespace ndproxy {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

}  // namespace ndproxy
