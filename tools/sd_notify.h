// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the
// socket named by $NOTIFY_SOCKET. A no-op when not started by systemd.
#pragma once

#include <string>

namespace dgc::tools {
// Sends `state` ("READY=1", "STOPPING=1", "STATUS=..."); false when there is no socket or it fails.
bool sd_notify(const std::string& state);
}  // namespace dgc::tools
