// Fault injection for the store's I/O, RocksDB fault-injection style, as an LD_PRELOAD
// library so that production code carries no test hooks. The daemon runs with
// LD_PRELOAD=libdgc_fault_shim.so and DGC_FAULT_RULES=FILE; FILE holds rules, one a line:
//
//     ACTION OPS PATH-SUBSTRING [AFTER-SUBSTRING]   e.g.  ENOSPC write,fsync /store/raw/
//
// ACTION: ENOSPC, EIO (the call fails with that errno) or KILL (the process gets SIGKILL
// at that call: kill -9 at an exact stage); ENOSPC:N or EIO:N fails only the first N
// matching calls (a fault that clears by itself, before the daemon's next write). OPS: a comma list of write (write, pwrite,
// writev, pwritev), fsync (fsync, fdatasync), rename, unlink, create (open with O_CREAT)
// or all. A rule applies to calls whose path (for fds, /proc/self/fd's link) contains
// PATH-SUBSTRING; with AFTER-SUBSTRING, only once some intercepted call (of any kind) has
// touched a path containing it, which pins a stage that has no path of its own (the model
// commit is the first catalog write after the training scratch file appears). The file is re-read when its mtime changes (looked at every 20 ms), so a
// test arms and clears faults while the daemon runs; an empty file injects nothing.
// Every injected fault appends "ACTION OP PATH" to FILE.hits before it takes effect.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { kWrite = 1, kFsync = 2, kRename = 4, kUnlink = 8, kCreate = 16, kAll = 31 };
enum { kMaxRules = 8 };

struct rule {
    int action;  // an errno, or -1 for KILL
    int ops;
    char path[256];
    char after[256];  // "" or the path that arms the rule
    int armed;
    int left;  // faults still to inject; -1: no limit
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[kMaxRules];
static int nrules;
static struct timespec rules_mtime;
static long long next_look_ns;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define REAL(ret, name, ...)                                               \
    static ret (*real_##name)(__VA_ARGS__);                                \
    if (!real_##name) real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static int parse_ops(char* s) {
    int ops = 0;
    for (char* tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (!strcmp(tok, "write")) ops |= kWrite;
        else if (!strcmp(tok, "fsync")) ops |= kFsync;
        else if (!strcmp(tok, "rename")) ops |= kRename;
        else if (!strcmp(tok, "unlink")) ops |= kUnlink;
        else if (!strcmp(tok, "create")) ops |= kCreate;
        else if (!strcmp(tok, "all")) ops |= kAll;
    }
    return ops;
}

static void load_rules(const char* file) {
    struct stat st;
    if (stat(file, &st) != 0) {
        nrules = 0;
        return;
    }
    if (st.st_mtim.tv_sec == rules_mtime.tv_sec && st.st_mtim.tv_nsec == rules_mtime.tv_nsec) return;
    rules_mtime = st.st_mtim;
    nrules = 0;
    FILE* f = fopen(file, "re");
    if (!f) return;
    char line[1024], action[16], ops[64], path[256], after[256];
    while (nrules < kMaxRules && fgets(line, sizeof line, f)) {
        after[0] = '\0';
        if (sscanf(line, "%15s %63s %255s %255s", action, ops, path, after) < 3) continue;
        struct rule* r = &rules[nrules];
        snprintf(r->after, sizeof r->after, "%s", after);
        r->armed = after[0] == '\0';
        char* limit = strchr(action, ':');
        r->left = limit ? atoi(limit + 1) : -1;
        if (limit) *limit = '\0';
        r->action = !strcmp(action, "KILL") ? -1 : !strcmp(action, "ENOSPC") ? ENOSPC : !strcmp(action, "EIO") ? EIO : 0;
        r->ops = parse_ops(ops);
        snprintf(r->path, sizeof r->path, "%s", path);
        if (r->action && r->ops) ++nrules;
    }
    fclose(f);
}

static void note_hit(const char* file, const char* what, const char* op, const char* path) {
    char hits[4096], line[4400];
    snprintf(hits, sizeof hits, "%s.hits", file);
    int n = snprintf(line, sizeof line, "%s %s %s\n", what, op, path);
    REAL(int, open, const char*, int, ...);
    REAL(ssize_t, write, int, const void*, size_t);
    int fd = real_open(hits, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (real_write(fd, line, (size_t)n) < 0) { /* the hit is still injected */ }
    close(fd);
}

// 0: no fault; otherwise the errno to fail with (KILL does not return). Every intercepted
// call comes here (op 0: a call that only arms rules).
static int fault_for(int op, const char* opname, const char* path) {
    const char* file = getenv("DGC_FAULT_RULES");
    if (!file || !path) return 0;
    int err = 0;
    pthread_mutex_lock(&mu);
    if (now_ns() >= next_look_ns) {
        load_rules(file);
        next_look_ns = now_ns() + 20000000LL;
    }
    for (int i = 0; i < nrules && !err; ++i) {
        if (!rules[i].armed) {
            rules[i].armed = strstr(path, rules[i].after) != NULL;
            continue;  // the arming call itself goes through
        }
        if ((rules[i].ops & op) && rules[i].left != 0 && strstr(path, rules[i].path)) {
            err = rules[i].action;
            if (rules[i].left > 0) --rules[i].left;
        }
    }
    pthread_mutex_unlock(&mu);
    if (!err) return 0;
    note_hit(file, err < 0 ? "KILL" : err == ENOSPC ? "ENOSPC" : "EIO", opname, path);
    if (err < 0) kill(getpid(), SIGKILL);
    return err;
}

static int fault_fd(int op, const char* opname, int fd) {
    if (!getenv("DGC_FAULT_RULES")) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    return fault_for(op, opname, path);
}

#define FAIL_FD(op, name, fd)                            \
    do {                                                 \
        int e_ = fault_fd(op, name, fd);                 \
        if (e_) {                                        \
            errno = e_;                                  \
            return -1;                                   \
        }                                                \
    } while (0)

#define FAIL_PATH(op, name, p)                           \
    do {                                                 \
        int e_ = fault_for(op, name, p);                 \
        if (e_) {                                        \
            errno = e_;                                  \
            return -1;                                   \
        }                                                \
    } while (0)

ssize_t write(int fd, const void* buf, size_t n) {
    REAL(ssize_t, write, int, const void*, size_t);
    FAIL_FD(kWrite, "write", fd);
    return real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
    REAL(ssize_t, pwrite, int, const void*, size_t, off_t);
    FAIL_FD(kWrite, "pwrite", fd);
    return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
    REAL(ssize_t, pwrite64, int, const void*, size_t, off_t);
    FAIL_FD(kWrite, "pwrite", fd);
    return real_pwrite64(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int cnt) {
    REAL(ssize_t, writev, int, const struct iovec*, int);
    FAIL_FD(kWrite, "writev", fd);
    return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) {
    REAL(ssize_t, pwritev, int, const struct iovec*, int, off_t);
    FAIL_FD(kWrite, "pwritev", fd);
    return real_pwritev(fd, iov, cnt, off);
}
int fsync(int fd) {
    REAL(int, fsync, int);
    FAIL_FD(kFsync, "fsync", fd);
    return real_fsync(fd);
}
int fdatasync(int fd) {
    REAL(int, fdatasync, int);
    FAIL_FD(kFsync, "fdatasync", fd);
    return real_fdatasync(fd);
}
int rename(const char* from, const char* to) {
    REAL(int, rename, const char*, const char*);
    FAIL_PATH(kRename, "rename", to);
    return real_rename(from, to);
}
int unlink(const char* path) {
    REAL(int, unlink, const char*);
    FAIL_PATH(kUnlink, "unlink", path);
    return real_unlink(path);
}

int open(const char* path, int flags, ...) {
    REAL(int, open, const char*, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    FAIL_PATH((flags & O_CREAT) ? kCreate : 0, "create", path);
    return real_open(path, flags, mode);
}
int open64(const char* path, int flags, ...) {
    REAL(int, open64, const char*, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    FAIL_PATH((flags & O_CREAT) ? kCreate : 0, "create", path);
    return real_open64(path, flags, mode);
}
