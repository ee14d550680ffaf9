// Format 50: an echo reply answers a request. The flow model draws an ICMP flow's directions
// and sizes packet by packet, and format 49 made each packet of the reverse direction a
// reply with the flow's latest sequence number: replies before any request, two replies to
// one request, and replies of another size than the request they answer (an echo reply
// carries the request's data back, RFC 792 / RFC 4443 4.2). The dev traces answer every
// request they see answered with a reply of its size; the regenerated dnscap trace had 12 of
// its 12 pairs of different sizes, lockly's week 3 of 5 and 5 of its 10 requests
// unanswered where the real week answers all 9. Pure; synthesize_records applies it.
#pragma once

#include <cstdint>
#include <vector>

namespace dgc::trainer {

inline constexpr int32_t kEchoRequest = -1;

// Over an echo flow's packets in time order (`dirs`: 0 the requester's, 1 the answerer's),
// each reply answers the oldest request still unanswered and takes its length. A reply with
// none to answer is sent as a request, and for each such a later request that has one to
// answer is sent as its reply, so the flow keeps the model's counts where it can. Returns,
// per packet, the request it answers, or kEchoRequest.
std::vector<int32_t> pair_echo_replies(std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens);

}  // namespace dgc::trainer
