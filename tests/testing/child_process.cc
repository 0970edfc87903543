// SPDX-License-Identifier: Apache-2.0
#include "testing/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/wait.h>

namespace phenix::testing {

int KillAndDrain(pid_t pid, int read_fd, std::string& output) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::fcntl(read_fd, F_SETFL, 0);
    char buf[4096];
    while (true) {
        const ssize_t n = ::read(read_fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(read_fd);
    return status;
}

}  // namespace phenix::testing
