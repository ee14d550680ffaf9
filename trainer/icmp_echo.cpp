#include "trainer/icmp_echo.h"

#include <cstddef>
#include <deque>

namespace dgc::trainer {

std::vector<int32_t> pair_echo_replies(std::vector<uint8_t>& dirs, std::vector<uint32_t>& lens) {
    std::vector<int32_t> answers(dirs.size(), kEchoRequest);
    std::deque<int32_t> unanswered;
    std::size_t owed = 0;  // replies sent as requests, for want of a request to answer
    for (std::size_t j = 0; j < dirs.size(); ++j) {
        bool reply = dirs[j] == 1;
        if (reply && unanswered.empty()) reply = false, ++owed;
        else if (!reply && owed && !unanswered.empty()) reply = true, --owed;
        dirs[j] = reply ? 1 : 0;
        if (!reply) {
            unanswered.push_back(static_cast<int32_t>(j));
            continue;
        }
        answers[j] = unanswered.front();
        unanswered.pop_front();
        lens[j] = lens[static_cast<std::size_t>(answers[j])];
    }
    return answers;
}

}  // namespace dgc::trainer
