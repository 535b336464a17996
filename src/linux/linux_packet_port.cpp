#include "linux/linux_packet_port.hpp"

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"
#include "core/log.hpp"

namespace ndproxy {

LinuxPacketPort::LinuxPacketPort(std::unique_ptr<SolicitationFilter> filter)
    : filter_(std::move(filter)) {
    if (filter_) {
        frames_.use_program(filter_->program_fd());
    }
}

void LinuxPacketPort::listen_for_solicitations(int ifindex) {
    if (filter_) {
        filter_->set_ifindex(ifindex);
    }
    frames_.listen(ifindex);
}

void LinuxPacketPort::set_filter_scope(const std::vector<Ipv6Prefix>& prefixes) {
    // Without every prefix it would drop, as out of scope, what the responder answers.
    if (filter_ && !filter_->set_scope(prefixes)) {
        give_up_filter();
    }
}

void LinuxPacketPort::set_filter_targets(const FilterTargets& targets, bool replace) {
    if (filter_ && !filter_->set_targets(targets, replace)) {
        give_up_filter();
    }
}

void LinuxPacketPort::give_up_filter() {
    log::warn("fast path off: reading every solicitation");
    frames_.use_program(-1);
    const FilterCounts counts = filter_->counts();
    retired_.kernel_answers += counts.kernel_answers;
    retired_.out_of_scope += counts.out_of_scope;
    const FastAnswerCounts answers = filter_->answer_counts();
    retired_answers_.answered += answers.answered;
    retired_answers_.rate_limited += answers.rate_limited;
    retired_answers_.total_rate_limited += answers.total_rate_limited;
    filter_.reset();  // the XDP responder with it: its link closes, and it detaches
}

void LinuxPacketPort::set_fast_answers(const FastAnswerSettings& settings) {
    if (filter_) {
        filter_->set_answers(settings);
    }
}

void LinuxPacketPort::set_fast_blocks(const std::vector<Ipv6Prefix>& blocks) {
    if (filter_ && !filter_->set_blocks(blocks)) {
        give_up_filter();
    }
}

void LinuxPacketPort::set_fast_uplink(const MacAddress& mac,
                                      const std::optional<Ipv6Address>& link_local) {
    if (filter_) {
        filter_->set_uplink(mac, link_local);
    }
}

void LinuxPacketPort::note_answered(const Ipv6Address& target) {
    if (filter_ && !filter_->note_answered(target)) {
        give_up_filter();
    }
}

FastPathState LinuxPacketPort::fast_path_state() const {
    if (!filter_) {
        return FastPathState::off;
    }
    const XdpResponder* responder = filter_->responder();
    return responder != nullptr && responder->attached() ? FastPathState::xdp
                                                         : FastPathState::filter;
}

FastAnswerCounts LinuxPacketPort::fast_answer_counts() const {
    FastAnswerCounts counts = retired_answers_;
    if (filter_) {
        const FastAnswerCounts live = filter_->answer_counts();
        counts.answered += live.answered;
        counts.rate_limited += live.rate_limited;
        counts.total_rate_limited += live.total_rate_limited;
    }
    return counts;
}

FilterCounts LinuxPacketPort::filter_counts() const {
    if (!filter_) {
        return retired_;
    }
    const FilterCounts counts = filter_->counts();
    return {retired_.kernel_answers + counts.kernel_answers,
            retired_.out_of_scope + counts.out_of_scope};
}

std::optional<TimePoint> LinuxPacketPort::filter_last_seen(const Ipv6Prefix& prefix) const {
    return filter_ ? filter_->last_seen(prefix) : std::nullopt;
}

bool LinuxPacketPort::send_solicitation(int ifindex, const Ipv6Address& destination,
                                        const Ipv6Address& target,
                                        const std::optional<MacAddress>& source_lladdr) {
    return icmp_.send(ifindex, destination, ndp::build_solicitation(target, source_lladdr));
}

bool LinuxPacketPort::send_advertisement(int ifindex, const Ipv6Address& destination,
                                         const ndp::Advertisement& advert) {
    return icmp_.send(ifindex, destination,
                      ndp::build_advertisement(advert.target, advert.flags, advert.target_lladdr));
}

bool LinuxPacketPort::read_solicitations(const SolicitationSink& sink) {
    return frames_.read([&](std::span<const std::uint8_t> frame, ndp::Delivery delivery) {
        sink(ndp::parse_solicitation_frame(frame, delivery));
    });
}

bool LinuxPacketPort::send_answer(int ifindex, const ndp::AnswerFrame& answer) {
    const auto icmp = ndp::build_advertisement(answer.advert.target, answer.advert.flags,
                                               answer.advert.target_lladdr);
    return frames_.send(ifindex,
                        ndp::build_icmpv6_frame(answer.ether_source, answer.ether_destination,
                                                answer.source, answer.destination, icmp));
}

}  // namespace ndproxy
