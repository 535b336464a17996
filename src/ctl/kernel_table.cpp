#include "ctl/kernel_table.hpp"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <variant>

#include "codec/netlink_codec.hpp"
#include "ctl/control_client.hpp"
#include "ctl/nl_handles.hpp"

namespace ndproxy::ctl {
namespace {

constexpr std::string_view kReading = "the kernel's proxy table";

[[noreturn]] void fail(std::string_view what, int error) {
    nl::fail(kReading, what, error);
}

struct DumpState {
    nl_cache* links = nullptr;
    std::vector<KernelRow> rows;
};

// One message of the dump. libnl receives it and checks its sequence number; the daemon's codec
// reads it, so that both programs accept exactly the same rows (libnl 3.7, in Debian 12, does
// not even parse NDA_PROTOCOL, which Linux 5.2 added).
int on_neighbour(nl_msg* msg, void* arg) {
    auto& state = *static_cast<DumpState*>(arg);
    const nlmsghdr* header = nlmsg_hdr(msg);
    const auto entry =
        proxy_row({reinterpret_cast<const std::uint8_t*>(header), header->nlmsg_len});
    if (!entry) {
        return NL_OK;
    }
    std::array<char, 64> name{};
    std::string interface = rtnl_link_i2name(state.links, entry->ifindex, name.data(), name.size())
                                ? std::string(name.data())
                                : std::to_string(entry->ifindex);  // the link went meanwhile
    state.rows.push_back({*entry, std::move(interface)});
    return NL_OK;
}

// What the daemon says; nullopt (and `why`) if it cannot be asked.
std::optional<DaemonView> ask_daemon(const std::string& socket_path, std::string& why) {
    try {
        DaemonView view;
        const nlohmann::json status = send_command(socket_path, "status");
        if (!status.contains("external") || !status["external"].is_object() ||
            !status["external"].value("name", nlohmann::json()).is_string()) {
            throw ControlError("ndproxyd sent a status without its external interface");
        }
        view.external = status["external"]["name"].get<std::string>();
        for (const auto& uplink : status.value("uplinks", nlohmann::json::array())) {
            if (uplink.is_object() && uplink.value("name", nlohmann::json()).is_string()) {
                view.uplinks.push_back(uplink["name"].get<std::string>());
            }
        }
        view.status = status;
        view.list = send_command(socket_path, "list");
        return view;
    } catch (const ControlError& error) {
        why = error.what();
        return std::nullopt;
    }
}

}  // namespace

std::optional<ProxyEntry> proxy_row(std::span<const std::uint8_t> message) {
    // The kernel answers a proxy dump with proxy entries only; the check keeps it that way
    // should an old kernel ignore the request's NTF_PROXY and send the neighbour table.
    const auto event = netlink::parse_message(message);
    const auto* entry = event ? std::get_if<ProxyEntry>(&*event) : nullptr;
    return entry ? std::optional(*entry) : std::nullopt;
}

std::vector<KernelRow> read_kernel_proxy_table() {
    const nl::Socket sock = nl::connect(kReading);
    nl_cache* links_raw = nullptr;
    if (const int error = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &links_raw); error < 0) {
        fail("link dump", error);
    }
    const nl::Cache links(links_raw);

    // rtnl_neigh_alloc_cache() cannot be used: its dump request is a bare rtgenmsg, and the
    // kernel dumps the proxy table only for a full ndmsg with ndm_flags == NTF_PROXY.
    const nl::Msg request(nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP));
    if (!request) {
        fail("nlmsg_alloc_simple", -NLE_NOMEM);
    }
    ndmsg header{};
    header.ndm_family = AF_INET6;
    header.ndm_flags = NTF_PROXY;
    if (const int error = nlmsg_append(request.get(), &header, sizeof(header), NLMSG_ALIGNTO);
        error < 0) {
        fail("nlmsg_append", error);
    }
    if (const int error = nl_send_auto(sock.get(), request.get()); error < 0) {
        fail("sending the dump request", error);
    }
    DumpState state;
    state.links = links.get();
    if (const int error =
            nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_neighbour, &state);
        error < 0) {
        fail("nl_socket_modify_cb", error);
    }
    // Reads until NLMSG_DONE; the default callbacks check sequence numbers and turn an
    // NLMSG_ERROR into a negative return.
    const int error = nl_recvmsgs_default(sock.get());
    if (error < 0) {
        fail("proxy dump", error);
    }
    return std::move(state.rows);
}

CrossCheck cross_check(const std::string& socket_path) {
    CrossCheck result;
    result.daemon = ask_daemon(socket_path, result.why);
    result.view = kernel_view(read_kernel_proxy_table(), result.daemon);
    if (result.daemon && !result.view["warnings"].empty()) {
        // The two tables are read one after the other, and an entry added or withdrawn in
        // between looks like a mismatch; one that is still there a moment later is real.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        result.daemon = ask_daemon(socket_path, result.why);
        result.view = kernel_view(read_kernel_proxy_table(), result.daemon);
    }
    return result;
}

}  // namespace ndproxy::ctl
