#pragma once

#include "core/packet_port.hpp"
#include "linux/frame_socket.hpp"
#include "linux/icmpv6_socket.hpp"
#include "linux/solicitation_filter.hpp"

#include <memory>

namespace ndproxy {

// The codec (codec/ndp_codec.hpp, codec/frame_codec.hpp) turns the port's messages into bytes and
// back, so that the core sees only ND messages.
class LinuxPacketPort final : public PacketPort {
public:
    // With a fast path when `filter` is given (docs/design.md §Fast path).
    explicit LinuxPacketPort(std::unique_ptr<SolicitationFilter> filter = nullptr);

    [[nodiscard]] int fd() const override { return icmp_.fd(); }
    bool send_solicitation(int ifindex, const Ipv6Address& destination, const Ipv6Address& target,
                           const std::optional<MacAddress>& source_lladdr) override;
    bool send_advertisement(int ifindex, const Ipv6Address& destination,
                            const ndp::Advertisement& advert) override;
    std::vector<ReceivedAdvertisement> read_advertisements() override {
        return icmp_.read_advertisements();
    }

    bool join_group(int ifindex, const Ipv6Address& group) override {
        return icmp_.membership(ifindex, group, true);
    }
    bool leave_group(int ifindex, const Ipv6Address& group) override {
        return icmp_.membership(ifindex, group, false);
    }

    [[nodiscard]] int frame_fd() const override { return frames_.fd(); }
    void listen_for_solicitations(int ifindex) override;
    bool read_solicitations(const SolicitationSink& sink) override;
    std::uint64_t take_frame_drops() override { return frames_.take_drops(); }
    bool send_answer(int ifindex, const ndp::AnswerFrame& answer) override;

    void set_filter_scope(const std::vector<Ipv6Prefix>& prefixes) override;
    void set_filter_targets(const FilterTargets& targets, bool replace) override;
    [[nodiscard]] FilterCounts filter_counts() const override;
    [[nodiscard]] std::optional<TimePoint> filter_last_seen(
        const Ipv6Prefix& prefix) const override;
    void set_fast_answers(const FastAnswerSettings& settings) override;
    void set_fast_blocks(const std::vector<Ipv6Prefix>& blocks) override;
    void set_fast_uplink(const MacAddress& mac,
                         const std::optional<Ipv6Address>& link_local) override;
    void note_answered(const Ipv6Address& target) override;
    [[nodiscard]] FastAnswerCounts fast_answer_counts() const override;
    [[nodiscard]] FastPathState fast_path_state() const override;

private:
    Icmpv6Socket icmp_;
    FrameSocket frames_;
    // Back to the classic filter, for good: reading every solicitation is always right.
    void give_up_filter();

    std::unique_ptr<SolicitationFilter> filter_;
    FilterCounts retired_;  // counted by a filter since given up
    FastAnswerCounts retired_answers_;
};

}  // namespace ndproxy
