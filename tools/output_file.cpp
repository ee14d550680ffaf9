#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dgc::tools {

Status check_writable(const std::string& path) {
    if (is_stdio(path)) return Status::ok();
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return Status::invalid(path + ": is a directory");
        if (::access(path.c_str(), W_OK) != 0) return Status::io(path + ": cannot write: " + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) return Status::ok();  // a device or pipe is written in place
    }
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir.assign(1, '.');  // a bare file name: the working directory
    if (::stat(dir.c_str(), &st) != 0) return Status::io(path + ": cannot write: " + dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return Status::io(path + ": cannot write: " + dir + ": " + std::strerror(ENOTDIR));
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return Status::io(path + ": cannot write: " + dir + ": " + std::strerror(errno));
    return Status::ok();
}

namespace {

bool write_all(int fd, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

Status write_output(const std::string& path, std::string_view bytes) {
    if (is_stdio(path)) {
        if (!write_all(STDOUT_FILENO, bytes)) return Status::io(std::string("standard output: ") + std::strerror(errno));
        return Status::ok();
    }
    struct stat st {};
    const bool plain = ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode);
    const std::string tmp = plain ? path + ".tmp" : path;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io(path + ": cannot open for writing: " + std::strerror(errno));
    int err = write_all(fd, bytes) ? 0 : errno;
    if (err == 0 && plain && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    if (err == 0 && (!plain || ::rename(tmp.c_str(), path.c_str()) == 0)) return Status::ok();
    const int why = err ? err : errno;
    if (plain) ::unlink(tmp.c_str());
    return Status::io(path + ": write failed: " + std::strerror(why));
}

}  // namespace dgc::tools
