#include "daemon/uplink.hpp"

#include <sys/epoll.h>
#include <sys/random.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "core/daemon_settings.hpp"
#include "core/log.hpp"
#include "linux/sysctl.hpp"

namespace ndproxy {

namespace {

ResponderServiceSettings responder_settings_with_key(const Config& config,
                                                     const std::string& uplink) {
    ResponderServiceSettings settings = responder_settings(config, uplink);
    // Unknown outside, so that nobody can pick sources whose buckets collide with the
    // router's. Without it (getrandom cannot fail for 8 bytes once the pool is ready; the
    // fallback is only for a kernel that is still booting) the hash stays fair, only guessable.
    std::uint64_t key = 0;
    if (::getrandom(&key, sizeof(key), GRND_NONBLOCK) != sizeof(key)) {
        key = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    }
    settings.policy.limits.hash_key = key;
    return settings;
}

// Room beside the kernel's share for the host's own addresses and the administrator's proxy
// entries; past it these are read by the responder as before (SolicitationFilter::write).
constexpr std::size_t kFilterSlack = 4096;

}  // namespace

FastPaths load_fast_paths(const Config& config) {
    FastPaths loaded;
    // Nothing to filter where the responder reads nothing.
    if (config.fast_path == FastPath::off || config.responder == ResponderMode::off ||
        config.dry_run) {
        return loaded;
    }
    const bool answers =
        config.fast_path == FastPath::xdp || config.fast_path == FastPath::xdp_native;
    // The XDP responder reads the responder's addresses from the same map as the kernel's.
    const std::size_t held =
        answers ? std::max(config.kernel_entries, config.max_entries) : config.kernel_entries;
    const std::size_t room = std::min(held, kMaxEntriesCeiling) + kFilterSlack;
    const auto attach = config.fast_path == FastPath::xdp_native ? XdpResponder::Attach::native
                                                                 : XdpResponder::Attach::generic;
    try {
        for (std::size_t i = 0; i < config.externals.size(); ++i) {
            loaded.filters.push_back(std::make_unique<SolicitationFilter>(room));
            if (answers) {
                loaded.filters.back()->enable_answers(attach);
            }
        }
    } catch (const std::system_error& error) {
        if (config.fast_path != FastPath::automatic) {
            throw std::runtime_error(fmt::format("--fast-path {}: {} (it needs CAP_BPF at startup)",
                                                 to_string(config.fast_path), error.what()));
        }
        loaded.filters.clear();
        loaded.note = fmt::format(
            "fast path off: {} (--fast-path auto; it needs CAP_BPF at startup)", error.what());
        return loaded;
    }
    loaded.note =
        answers
            ? "fast path: solicitations the responder would only drop are dropped in the "
              "kernel, and the proxied addresses answered on the uplink's XDP hook"
            : "fast path: solicitations the responder would only drop are dropped in the kernel";
    return loaded;
}

void Uplink::NamedEvents::publish(monitor::Event event) {
    if (config_.externals.size() > 1) {
        event.details["uplink"] = name_;
    }
    next_.publish(std::move(event));
}

Uplink::Uplink(EventLoop& loop, const Config& config, const std::string& name,
               monitor::Sink& events, std::unique_ptr<SolicitationFilter> filter)
    : loop_(loop),
      config_(config),
      name_(name),
      events_(events, config_, name_),
      kernel_(config.netlink_buffer),
      packets_(std::move(filter)),
      service_(service_settings(config, name), kernel_, packets_,
               [this](const TrackedLink& external) { on_external_link(external); }),
      responder_(responder_settings_with_key(config, name), service_, packets_) {
    service_.set_monitor(&events_);
    responder_.set_monitor(&events_);
    loop_.add(kernel_.event_fd(), EPOLLIN,
              [this](std::uint32_t) { service_.on_kernel_readable(Clock::now()); });
    loop_.add(packets_.fd(), EPOLLIN, [this](std::uint32_t) { on_advertisements(); });
    loop_.add(packets_.frame_fd(), EPOLLIN,
              [this](std::uint32_t) { responder_.on_frames_readable(Clock::now()); });
}

Uplink::~Uplink() {
    retire();
}

void Uplink::retire() {
    if (!active_) {
        return;
    }
    active_ = false;
    service_.set_monitor(nullptr);
    responder_.set_monitor(nullptr);
    loop_.remove(kernel_.event_fd());
    loop_.remove(packets_.fd());
    loop_.remove(packets_.frame_fd());
    packets_.listen_for_solicitations(0);
    responder_.set_listening(false);
}

void Uplink::reconfigure(TimePoint now) {
    responder_.reconfigure(responder_settings(config_, name_));
    service_.reconfigure(service_settings(config_, name_), now);
}

void Uplink::on_timer(TimePoint now) {
    service_.on_timer(now);
    responder_.on_timer(now);
}

void Uplink::refresh(TimePoint now) {
    service_.refresh_proxy_table(now);
    responder_.prune_memberships();
}

std::optional<TimePoint> Uplink::next_wakeup() const {
    const auto mirror = service_.next_wakeup();
    const auto responder = responder_.next_wakeup();
    if (!mirror && !responder) {
        return std::nullopt;
    }
    return std::min(mirror.value_or(TimePoint::max()), responder.value_or(TimePoint::max()));
}

void Uplink::on_advertisements() {
    const TimePoint now = Clock::now();
    for (const ReceivedAdvertisement& received : packets_.read_advertisements()) {
        responder_.on_advertisement(received, now);
        service_.on_advertisement(received, now);
    }
}

void Uplink::on_external_link(const TrackedLink& external) {
    if (external.present()) {
        apply_proxy_sysctls(external.name, config_.manage_sysctls && !config_.dry_run);
    }
    // --dry-run answers nothing either: an answer changes upstream caches.
    const bool listen = external.present() && responder_.enabled() && !config_.dry_run;
    packets_.listen_for_solicitations(listen ? external.ifindex : 0);
    responder_.set_listening(listen);
}

}  // namespace ndproxy
