// The state file on disk (daemon/state_store.hpp): written whole, read back, a missing or corrupt
// file read as empty, a write that cannot be made no error, and a dry run never writing.

#include "daemon/state_store.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

class StateStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = ::testing::TempDir() + "ndproxyd-state-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory_ = pattern;
        path_ = directory_ + "/responder.state";
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }
    void put(const std::string& text) { std::ofstream(path_) << text; }

    std::string directory_;
    std::string path_;
    const std::vector<Ipv6Address> addresses_{*Ipv6Address::parse("2001:db8:1::10"),
                                              *Ipv6Address::parse("2001:db8:1::20")};
    const TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(StateStoreTest, WrittenWholeAndReadBack) {
    StateStore store(path_, false);
    EXPECT_TRUE(store.load().empty()) << "missing: read as empty";
    store.note(1, t0);
    EXPECT_EQ(store.deadline(), t0 + StateStore::kDelay);
    store.note(2, t0 + 1s);
    EXPECT_EQ(store.deadline(), t0 + StateStore::kDelay) << "changes share one write";
    store.write(addresses_);
    EXPECT_FALSE(store.dirty());
    EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
    EXPECT_EQ(StateStore(path_, false).load(), addresses_);
    store.note(2, t0 + 20s);
    EXPECT_FALSE(store.dirty()) << "no change since";
}

TEST_F(StateStoreTest, ACorruptFileIsReadAsEmpty) {
    put("ndproxyd-state 1\n2001:db8:1::10\nnot an address\n");
    EXPECT_TRUE(StateStore(path_, false).load().empty());
    put("");
    EXPECT_TRUE(StateStore(path_, false).load().empty());
}

TEST_F(StateStoreTest, AWriteThatFailsIsNoError) {
    StateStore store(directory_ + "/missing/responder.state", false);
    store.write(addresses_);
    EXPECT_FALSE(store.dirty());
    EXPECT_FALSE(std::filesystem::exists(directory_ + "/missing"));
}

TEST_F(StateStoreTest, ADryRunNeverWrites) {
    put("ndproxyd-state 1\n2001:db8:1::10\n");
    StateStore store(path_, true);
    EXPECT_EQ(store.load().size(), 1u);
    store.note(1, t0);
    store.write(addresses_);
    EXPECT_EQ(StateStore(path_, false).load().size(), 1u);
}

}  // namespace
}  // namespace ndproxy
