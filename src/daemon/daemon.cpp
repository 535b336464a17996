#include "daemon/daemon.hpp"

#include <sys/epoll.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <csignal>
#include <memory>

#include "core/control_list.hpp"
#include "core/control_replies.hpp"
#include "core/log.hpp"
#include "core/responder_state.hpp"
#include "linux/sysctl.hpp"

namespace ndproxy {

namespace {

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

// An uplink no prefix names (`via`) proxies nothing: most likely a forgotten line.
void warn_about_idle_uplinks(const Config& config) {
    for (const std::string& external : config.externals) {
        const bool serves = std::any_of(config.via.begin(), config.via.end(),
                                        [&](const auto& via) { return via.second == external; });
        if (!serves) {
            log::warn("no prefix names {} with \"via\": nothing is proxied on it", external);
        }
    }
}

}  // namespace

Daemon::Daemon(CommandLine startup, FastPaths fast_paths)
    : startup_(std::move(startup)),
      config_(startup_.config),
      signals_({SIGTERM, SIGINT, SIGHUP}),
      state_(config_.state_file, config_.dry_run),
      started_(Clock::now()),
      fast_path_note_(std::move(fast_paths.note)) {
    std::vector<std::unique_ptr<SolicitationFilter>>& filters = fast_paths.filters;
    filters.resize(config_.externals.size());
    for (std::size_t i = 0; i < config_.externals.size(); ++i) {
        uplinks_.push_back(std::make_shared<Uplink>(loop_, config_, config_.externals[i], events(),
                                                    std::move(filters[i])));
    }
    loop_.add(signals_.fd(), EPOLLIN, [this](std::uint32_t) { on_signal(); });
    loop_.add(wakeup_.fd(), EPOLLIN, [this](std::uint32_t) {
        wakeup_.acknowledge();
        const TimePoint now = Clock::now();
        for (const auto& uplink : uplinks_) {
            uplink->on_timer(now);
        }
        if (state_.deadline() && *state_.deadline() <= now) {
            write_state();
        }
    });
    loop_.add(proxy_refresh_.fd(), EPOLLIN, [this](std::uint32_t) {
        proxy_refresh_.acknowledge();
        const TimePoint now = Clock::now();
        for (const auto& uplink : uplinks_) {
            uplink->refresh(now);
        }
        check_neighbour_capacity(entry_count());
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
                             std::vector<std::shared_ptr<const MirrorService>> services;
                             for (const auto& uplink : uplinks_) {
                                 services.emplace_back(uplink, &uplink->service());
                             }
                             return control::Answer(std::make_unique<control::ListReply>(
                                 std::move(services), [] { return Clock::now(); }));
                         }
                         return answer(request);
                     });
}

int Daemon::run() {
    log::info("ndproxyd {} starting: external {}, internal {}{}", NDPROXY_VERSION,
              fmt::join(config_.externals, ", "), fmt::join(config_.internal, ", "),
              config_.dry_run ? " (dry run: nothing will be changed)" : "");
    if (!fast_path_note_.empty()) {
        log::info("{}", fast_path_note_);
    }
    warn_about_prefixes_the_unit_blocks(config_);
    warn_about_idle_uplinks(config_);
    const std::vector<Ipv6Address> remembered = state_.load();
    for (const auto& uplink : uplinks_) {
        uplink->service().remember(remembered);
        uplink->service().full_resync(Clock::now());
    }
    // The start's table, on disk now if it differs, so that idle means idle from here on.
    note_state_changes(Clock::now());
    write_state();
    check_neighbour_capacity(entry_count());
    arm_wakeup();
    sd_notify(0, "READY=1");
    notify_status();
    log::info("ready: {}", control::status_line(views()));
    while (running_) {
        loop_.run_once(-1);
        note_state_changes(Clock::now());
        arm_wakeup();
    }
    if (config_.flush_on_exit) {
        log::info("withdrawing every owned entry (--flush-on-exit)");
        for (const auto& uplink : uplinks_) {
            uplink->service().withdraw_all();
        }
    }
    note_state_changes(Clock::now());
    if (state_.dirty()) {
        write_state();
    }
    sd_notify(0, "STOPPING=1");
    log::info("exiting; {}", control::status_line(views()));
    return 0;
}

void Daemon::arm_wakeup() {
    std::optional<TimePoint> next = state_.deadline();
    for (const auto& uplink : uplinks_) {
        if (const auto wakeup = uplink->next_wakeup()) {
            next = std::min(next.value_or(TimePoint::max()), *wakeup);
        }
    }
    if (next) {
        wakeup_.arm_at(*next);
    } else {
        wakeup_.disarm();
    }
}

void Daemon::note_state_changes(TimePoint now) {
    std::uint64_t changes = 0;
    for (const auto& uplink : uplinks_) {
        changes += uplink->service().policy().responder_changes();
    }
    state_.note(changes, now);
}

void Daemon::write_state() {
    std::vector<Ipv6Address> held;
    for (const auto& uplink : uplinks_) {
        responder_state::add_responder_held(uplink->service().policy(), held);
    }
    state_.write(held);
}

std::vector<control::UplinkView> Daemon::views() const {
    std::vector<control::UplinkView> views;
    for (const auto& uplink : uplinks_) {
        views.push_back({uplink->service(), uplink->responder()});
    }
    return views;
}

std::size_t Daemon::entry_count() const {
    std::size_t entries = 0;
    for (const auto& uplink : uplinks_) {
        entries += uplink->service().policy().entries().size();
    }
    return entries;
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
        publish_reload(error.what());
        return;
    }
    if (fresh.control_socket != config_.control_socket ||
        fresh.netlink_buffer != config_.netlink_buffer || fresh.user != config_.user ||
        fresh.state_file != config_.state_file) {
        log::warn(
            "SIGHUP: control-socket, netlink-buffer, state-file and user changes take effect at "
            "restart");
        fresh.control_socket = config_.control_socket;
        fresh.netlink_buffer = config_.netlink_buffer;
        fresh.user = config_.user;
        fresh.state_file = config_.state_file;
    }
    config_ = std::move(fresh);
    log::set_level(config_.log_level);
    proxy_refresh_.arm_every(config_.resync_interval);
    log::info("SIGHUP: configuration reloaded from {}", config_.config_path);
    warn_about_prefixes_the_unit_blocks(config_);
    warn_about_idle_uplinks(config_);
    control_->set_max_clients(config_.max_control_clients);
    replace_uplinks(Clock::now());
    notify_status();
    publish_reload(nullptr);
}

void Daemon::publish(monitor::Event event) {
    if (control_) {
        control_->publish(std::move(event));
    }
}

void Daemon::publish_reload(const char* error) {
    if (!active()) {
        return;
    }
    monitor::Event event{monitor::Kind::reload};
    event.details["result"] = error != nullptr ? "rejected" : "applied";
    if (error != nullptr) {
        event.details["error"] = error;
    }
    publish(std::move(event));
}

void Daemon::replace_uplinks(TimePoint now) {
    std::vector<std::shared_ptr<Uplink>> kept;
    for (const std::string& external : config_.externals) {
        const auto found = std::find_if(uplinks_.begin(), uplinks_.end(), [&](const auto& uplink) {
            return uplink->name() == external;
        });
        if (found != uplinks_.end()) {
            (*found)->reconfigure(now);
            kept.push_back(std::move(*found));
            uplinks_.erase(found);
            continue;
        }
        // Its fast path would need CAP_BPF, long dropped.
        log::info(
            "SIGHUP: serving the new uplink {}{}", external,
            config_.fast_path != FastPath::off ? " (without the fast path until restart)" : "");
        kept.push_back(std::make_shared<Uplink>(loop_, config_, external, events()));
        kept.back()->service().full_resync(now);
    }
    // Entries on an uplink no longer configured are ours to remove.
    for (const auto& gone : uplinks_) {
        log::info("SIGHUP: no longer serving {}; withdrawing its entries", gone->name());
        gone->service().withdraw_all();
        gone->retire();
    }
    uplinks_ = std::move(kept);
}

nlohmann::json Daemon::answer(const control::Request& request) {
    const TimePoint now = Clock::now();
    switch (request.command) {
        case control::Command::list:
            break;  // a ListReply, written a slice at a time (constructor)
        case control::Command::monitor:
            break;  // the control server subscribes the client itself
        case control::Command::stats: {
            const control::ControlCounters counted{control_->rejected_clients(),
                                                   control_->refused_requests(),
                                                   control_->dropped_events()};
            return {{"ok", true}, {"stats", control::stats_payload(views(), counted)}};
        }
        case control::Command::status: {
            nlohmann::json status = control::status_payload(views(), config_, now - started_, now);
            // A write still to come is a wake-up still to come (README "Scale": idle means idle).
            status["state_file_pending"] = state_.dirty();
            return {{"ok", true}, {"status", std::move(status)}};
        }
        case control::Command::resync:
            for (const auto& uplink : uplinks_) {
                uplink->service().full_resync(now);
            }
            return {{"ok", true}};
        case control::Command::announce:
            // The configured count even under --no-announce: the operator asks for it. RFC
            // 4861 §7.2.6 allows up to MAX_NEIGHBOR_ADVERTISEMENT (3) unsolicited ones.
            if (request.all) {
                std::size_t addresses = 0;
                for (const auto& uplink : uplinks_) {
                    addresses +=
                        uplink->service().announce_all(std::max(config_.announce_count, 1u), now);
                }
                return {{"ok", true}, {"addresses", addresses}};
            }
            // On the uplink whose prefixes hold it: prefixes never overlap across uplinks.
            for (const auto& uplink : uplinks_) {
                if (uplink->service().announce(*request.address,
                                               std::max(config_.announce_count, 1u), now)) {
                    return {{"ok", true}};
                }
            }
            return control::error_reply(fmt::format("{} is not proxied here", *request.address));
    }
    return control::error_reply("unknown command");
}

void Daemon::notify_status() {
    sd_notify(0, fmt::format("STATUS={}", control::status_line(views())).c_str());
}

}  // namespace ndproxy
