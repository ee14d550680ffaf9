#include "store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dgc::tools {

Result<StoreLock> StoreLock::acquire(const std::string& store) {
    const std::string path = store + "/dgcfs.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io(path + ": cannot open the store lock: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err != EWOULDBLOCK) return Status::io(path + ": cannot lock: " + std::strerror(err));
        const pid_t holder = read_lock_pid(path);
        return Status::busy("store " + store + " is in use by another dgcfs" +
                            (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) + ": " + path +
                            " is locked");
    }
    StoreLock lock(fd, path);
    lock.record_pid(::getpid());
    return lock;
}

StoreLock::~StoreLock() {
    if (fd_ >= 0) ::close(fd_);
}

void StoreLock::record_pid(pid_t pid) const {
    const std::string text = std::to_string(pid) + "\n";
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, text.data(), text.size(), 0);
}

pid_t read_lock_pid(const std::string& lock_path) {
    std::ifstream in(lock_path);
    long pid = 0;
    return (in >> pid) && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace dgc::tools
