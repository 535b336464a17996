// The address types' text parsers: what an operator or a file hands the daemon.
#include "core/ipv6.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ndproxy {
namespace {

using namespace std::string_literals;

TEST(Ipv6AddressParse, TakesTheTextFormsOfRfc4291) {
    EXPECT_TRUE(Ipv6Address::parse("2001:db8::1").has_value());
    EXPECT_TRUE(Ipv6Address::parse("::").has_value());
    EXPECT_TRUE(Ipv6Address::parse("::ffff:192.0.2.1").has_value());  // RFC 4291 §2.2, 3.
    EXPECT_EQ(Ipv6Address::parse("2001:DB8::1"), Ipv6Address::parse("2001:db8::1"));
}

TEST(Ipv6AddressParse, RefusesAnythingElseWhole) {
    EXPECT_FALSE(Ipv6Address::parse("").has_value());
    EXPECT_FALSE(Ipv6Address::parse("2001:db8::1/64").has_value());
    EXPECT_FALSE(Ipv6Address::parse(" 2001:db8::1").has_value());
    EXPECT_FALSE(Ipv6Address::parse("2001:db8::g").has_value());
    EXPECT_FALSE(Ipv6Address::parse(std::string(100, '1')).has_value());
    // inet_pton stops at a NUL: what follows it must not be passed over.
    EXPECT_FALSE(Ipv6Address::parse("2001:db8::1\0garbage"s).has_value());
    EXPECT_FALSE(Ipv6Prefix::parse("2001:db8::\0/64"s).has_value());
}

}  // namespace
}  // namespace ndproxy
