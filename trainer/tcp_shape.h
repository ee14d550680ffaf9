// Format 7's segment shapes, applied to a TCP plan once the payloads are known: FINs with
// data and the bare ACK after a teardown at the chunk's shares, and pure ACKs that would
// repeat themselves turned into the peer's ACK or data (see synthesize_records).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "trainer/tcp_plan.h"

namespace dgc::trainer {

class ShareQuota;

// Format 7: FINs carry data at the chunk's share of such FINs; a capture without pure ACKs
// also loses the bare ACK after a FIN exchange (the slot goes to the closer's last data).
void shape_teardown(std::vector<TcpSegmentPlan>& plan, ShareQuota& data_fins, bool no_pure_acks);

// Each segment's payload (payload_of(segment, direction)); a pure ACK that would repeat its
// side's last ACK (nothing new from the peer) while its own data waits for one is sent by
// the peer instead: the model's direction guess, made consistent with what was sent.
// Format 7 (`pure_acks` given): a pure ACK that acknowledges nothing on either side is a
// request and carries data even before its side sent any; a pure ACK beyond the chunk's
// share of them carries data; so does a FIN the plan gave data. Such a segment repeats its
// side's last payload, else the peer's, else `min_data`.
void fix_duplicate_acks(std::vector<TcpSegmentPlan>& plan, const std::function<uint32_t(uint32_t, uint8_t)>& payload_of,
                        std::vector<uint32_t>& payloads, ShareQuota* pure_acks = nullptr, uint32_t min_data = 1);

}  // namespace dgc::trainer
