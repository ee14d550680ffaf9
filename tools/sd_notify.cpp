#include "sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace dgc::tools {

bool sd_notify(const std::string& state) {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (!name || (name[0] != '/' && name[0] != '@')) return false;
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    const size_t len = std::strlen(name);
    if (len >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, name, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto addr_len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + len);
    const bool sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const struct sockaddr*>(&addr), addr_len) >= 0;
    ::close(fd);
    return sent;
}

}  // namespace dgc::tools
