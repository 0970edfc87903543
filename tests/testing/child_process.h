// SPDX-License-Identifier: Apache-2.0
//
// Helpers for the crash tests that fork a child, read its progress from a pipe and kill it.
#pragma once

#include <string>

#include <sys/types.h>

namespace phenix::testing {

/// Kills `pid` with SIGKILL, reaps it, appends whatever is left in the pipe `read_fd` (read to
/// end of file, blocking) to `output` and closes the pipe. Returns the wait status; a child that
/// died by the signal has WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL.
int KillAndDrain(pid_t pid, int read_fd, std::string& output);

}  // namespace phenix::testing
