#include "fs/retry.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dgc::fs {
namespace {

TEST(Retry, BackoffDoublesUpToItsCap) {
    const Backoff b{1000, 60000, 10};
    EXPECT_EQ(backoff_ms(b, 1), 1000);
    EXPECT_EQ(backoff_ms(b, 2), 2000);
    EXPECT_EQ(backoff_ms(b, 6), 32000);
    EXPECT_EQ(backoff_ms(b, 7), 60000);
    EXPECT_EQ(backoff_ms(b, 1000), 60000);  // no overflow however long the fault lasts
    EXPECT_EQ(backoff_ms(Backoff{0, 5000, 3}, 4), 0);
}

TEST(Retry, OnlyStoreFaultsAreTransient) {
    EXPECT_TRUE(transient(Status::io("catalog: mdb_txn_commit: No space left on device")));
    EXPECT_TRUE(transient(Status::busy("catalog busy")));
    EXPECT_FALSE(transient(Status::invalid("x.pcap: not a capture file")));
    EXPECT_FALSE(transient(Status::corrupt("x.pcap: record 3 longer than its snaplen")));
    EXPECT_FALSE(transient(Status::unsupported("link type 147")));
    EXPECT_FALSE(transient(Status::ok()));
}

TEST(Retry, AFullDiskReachesTheCallerAsEnospc) {
    EXPECT_EQ(errno_of(Status::io(std::string("staging/3: fdatasync failed: ") + std::strerror(ENOSPC))), ENOSPC);
    EXPECT_EQ(errno_of(Status::io(std::string("catalog: mdb_put: ") + std::strerror(EDQUOT))), EDQUOT);
    EXPECT_EQ(errno_of(Status::io(std::string("staging/3: fdatasync failed: ") + std::strerror(EIO))), EIO);
    EXPECT_EQ(errno_of(Status::corrupt("row damaged")), EIO);
}

TEST(Retry, OlderBuildsIoVerdictsAreToldFromDataVerdicts) {
    // The reasons the issue saw older builds write after a full disk or an I/O error.
    EXPECT_TRUE(io_fault_reason("chunk 0: /s/catalog: mdb_txn_commit: Input/output error"));
    EXPECT_TRUE(io_fault_reason("chunk 3: /s/staging/train-3-0.pcap: empty file"));
    EXPECT_TRUE(io_fault_reason("chunk 1: write /s/raw/7.zst: No space left on device"));
    EXPECT_TRUE(io_fault_reason("chunk 2: MDB_MAP_FULL: Environment mapsize limit reached"));
    // Verdicts on the data stay.
    EXPECT_FALSE(io_fault_reason("linktype 105 (ieee802_11) is not modelled"));
    EXPECT_FALSE(io_fault_reason("x.pcap: empty file"));
    EXPECT_FALSE(io_fault_reason("not a pcap or pcapng file: unknown magic 4447434d at byte 0"));
}

}  // namespace
}  // namespace dgc::fs
