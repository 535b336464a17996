#include "daemon/daemon.hpp"

#include <sys/epoll.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <csignal>
#include <memory>

#include "core/control_list.hpp"
#include "core/control_replies.hpp"
#include "core/daemon_settings.hpp"
#include "core/log.hpp"
#include "linux/sysctl.hpp"

namespace ndproxy {

namespace {

ResponderServiceSettings responder_settings_with_key(const Config& config) {
    ResponderServiceSettings settings = responder_settings(config);
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

// The packaged unit lets the ICMPv6 socket talk only to link-local, multicast, 2000::/3 and
// fc00::/7 addresses (IPAddressAllow=); the VMs of a prefix elsewhere could not be heard.
void warn_about_prefixes_the_unit_blocks(const Config& config) {
    for (const Ipv6Prefix& prefix : config.prefixes) {
        const std::uint8_t first = prefix.network.bytes[0];
        if ((first & 0xe0) != 0x20 && (first & 0xfe) != 0xfc) {
            log::warn(
                "prefix {} is neither global unicast (2000::/3) nor unique local (fc00::/7): "
                "under the packaged systemd unit, allow it with a drop-in "
                "(IPAddressAllow={}), or the VMs' advertisements are filtered out",
                prefix.to_string(), prefix.to_string());
        }
    }
}

}  // namespace

Daemon::Daemon(CommandLine startup)
    : startup_(std::move(startup)),
      config_(startup_.config),
      signals_({SIGTERM, SIGINT, SIGHUP}),
      // Subscribed before anything is dumped (docs/design.md §Netlink).
      kernel_(config_.netlink_buffer),
      service_(service_settings(config_), kernel_, packets_,
               [this](const TrackedLink& external) { on_external_link(external); }),
      responder_(responder_settings_with_key(config_), service_, packets_),
      started_(Clock::now()) {
    loop_.add(signals_.fd(), EPOLLIN, [this](std::uint32_t) { on_signal(); });
    loop_.add(kernel_.event_fd(), EPOLLIN,
              [this](std::uint32_t) { service_.on_kernel_readable(Clock::now()); });
    loop_.add(packets_.fd(), EPOLLIN, [this](std::uint32_t) { on_advertisements(); });
    loop_.add(packets_.frame_fd(), EPOLLIN,
              [this](std::uint32_t) { responder_.on_frames_readable(Clock::now()); });
    loop_.add(wakeup_.fd(), EPOLLIN, [this](std::uint32_t) {
        wakeup_.acknowledge();
        const TimePoint now = Clock::now();
        service_.on_timer(now);
        responder_.on_timer(now);
    });
    loop_.add(proxy_refresh_.fd(), EPOLLIN, [this](std::uint32_t) {
        proxy_refresh_.acknowledge();
        service_.refresh_proxy_table(Clock::now());
        responder_.prune_memberships();
        check_neighbour_capacity(service_.policy().entries().size());
        notify_status();
    });
    proxy_refresh_.arm_every(config_.resync_interval);
    std::uint64_t watchdog_usec = 0;
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
        // Half the watchdog period, as sd_watchdog_enabled(3) recommends.
        watchdog_.arm_every(std::chrono::microseconds(watchdog_usec / 2));
        loop_.add(watchdog_.fd(), EPOLLIN, [this](std::uint32_t) {
            watchdog_.acknowledge();
            sd_notify(0, "WATCHDOG=1");
        });
    }
    control_.emplace(loop_, config_.control_socket, config_.max_control_clients,
                     [this](const control::Request& request) -> control::Answer {
                         if (request.command == control::Command::list) {
                             return control::Answer(std::make_unique<control::ListReply>(
                                 service_, [] { return Clock::now(); }));
                         }
                         return answer(request);
                     });
}

int Daemon::run() {
    log::info("ndproxyd {} starting: external {}, internal {}{}", NDPROXY_VERSION, config_.external,
              fmt::join(config_.internal, ", "),
              config_.dry_run ? " (dry run: nothing will be changed)" : "");
    warn_about_prefixes_the_unit_blocks(config_);
    service_.full_resync(Clock::now());
    check_neighbour_capacity(service_.policy().entries().size());
    arm_wakeup();
    sd_notify(0, "READY=1");
    notify_status();
    log::info("ready: {}", control::status_line(service_));
    while (running_) {
        loop_.run_once(-1);
        arm_wakeup();
    }
    if (config_.flush_on_exit) {
        log::info("withdrawing every owned entry (--flush-on-exit)");
        service_.withdraw_all();
    }
    sd_notify(0, "STOPPING=1");
    log::info("exiting; {}", control::status_line(service_));
    return 0;
}

void Daemon::arm_wakeup() {
    const auto mirror = service_.next_wakeup();
    const auto responder = responder_.next_wakeup();
    if (mirror || responder) {
        wakeup_.arm_at(
            std::min(mirror.value_or(TimePoint::max()), responder.value_or(TimePoint::max())));
    } else {
        wakeup_.disarm();
    }
}

void Daemon::on_advertisements() {
    const TimePoint now = Clock::now();
    for (const ReceivedAdvertisement& received : packets_.read_advertisements()) {
        responder_.on_advertisement(received, now);
        service_.on_advertisement(received, now);
    }
}

void Daemon::on_external_link(const TrackedLink& external) {
    if (external.present()) {
        apply_proxy_sysctls(external.name, config_.manage_sysctls && !config_.dry_run);
    }
    // --dry-run answers nothing either: an answer changes upstream caches.
    const bool listen = external.present() && responder_.enabled() && !config_.dry_run;
    packets_.listen_for_solicitations(listen ? external.ifindex : 0);
}

void Daemon::on_signal() {
    while (const int signal = signals_.next()) {
        if (signal == SIGHUP) {
            reload();
        } else {
            log::info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
            running_ = false;
        }
    }
}

void Daemon::reload() {
    Config fresh;
    try {
        fresh = reload_config(startup_);
    } catch (const ConfigError& error) {
        // docs/design.md §Lifecycle: a bad file changes nothing.
        log::error("SIGHUP: configuration rejected, keeping the running one: {}", error.what());
        return;
    }
    if (fresh.control_socket != config_.control_socket ||
        fresh.netlink_buffer != config_.netlink_buffer || fresh.user != config_.user) {
        log::warn("SIGHUP: control-socket, netlink-buffer and user changes take effect at restart");
        fresh.control_socket = config_.control_socket;
        fresh.netlink_buffer = config_.netlink_buffer;
        fresh.user = config_.user;
    }
    config_ = std::move(fresh);
    log::set_level(config_.log_level);
    proxy_refresh_.arm_every(config_.resync_interval);
    log::info("SIGHUP: configuration reloaded from {}", config_.config_path);
    warn_about_prefixes_the_unit_blocks(config_);
    control_->set_max_clients(config_.max_control_clients);
    responder_.reconfigure(responder_settings(config_));
    service_.reconfigure(service_settings(config_), Clock::now());
    notify_status();
}

nlohmann::json Daemon::answer(const control::Request& request) {
    const TimePoint now = Clock::now();
    switch (request.command) {
        case control::Command::list:
            break;  // a ListReply, written a slice at a time (constructor)
        case control::Command::stats: {
            const control::ControlCounters counted{control_->rejected_clients(),
                                                   control_->refused_requests()};
            return {{"ok", true}, {"stats", control::stats_payload(service_, responder_, counted)}};
        }
        case control::Command::status:
            return {{"ok", true},
                    {"status", control::status_payload(service_, config_, now - started_)}};
        case control::Command::resync:
            service_.full_resync(now);
            return {{"ok", true}};
        case control::Command::announce:
            // The configured count even under --no-announce: the operator asks for it. RFC
            // 4861 §7.2.6 allows up to MAX_NEIGHBOR_ADVERTISEMENT (3) unsolicited ones.
            if (!service_.announce(*request.address, std::max(config_.announce_count, 1u), now)) {
                return control::error_reply(
                    fmt::format("{} is not proxied here", *request.address));
            }
            return {{"ok", true}};
    }
    return control::error_reply("unknown command");
}

void Daemon::notify_status() {
    sd_notify(0, fmt::format("STATUS={}", control::status_line(service_)).c_str());
}

}  // namespace ndproxy
