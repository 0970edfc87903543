// SPDX-License-Identifier: Apache-2.0
//
// Facts about the machine and this process that every end-to-end driver records next to its
// timings: CPU model, UTC time, load average, resident memory, bytes on disk. Header-only,
// standard library and POSIX only (Linux /proc).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/resource.h>

namespace phenix::bench_process {

inline std::string CpuModel() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("model name")) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                return line.substr(line.find_first_not_of(' ', colon + 1));
            }
        }
    }
    return "unknown";
}

inline std::string UtcNow() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

/// The 1-minute load average (other work on the machine inflates every timing); -1 if unknown.
inline double LoadAverage() {
    std::ifstream in("/proc/loadavg");
    double load = -1;
    in >> load;
    return load;
}

/// CPU time this process has used so far (user + system, all threads), in seconds.
inline double CpuSeconds() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return 0;
    }
    auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Resident set size from /proc/self/statm (pages -> bytes); 0 if unknown.
inline std::uint64_t RssBytes() {
    std::ifstream in("/proc/self/statm");
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    if (!(in >> size_pages >> resident_pages)) {
        return 0;
    }
    return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

/// Peak resident set size (VmHWM in /proc/self/status); 0 if unknown.
inline std::uint64_t PeakRssBytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmHWM:")) {
            return static_cast<std::uint64_t>(std::atoll(line.c_str() + 6)) * 1024;
        }
    }
    return 0;
}

/// Bytes of the regular files under `dir` (0 if it cannot be read).
inline std::uint64_t DirectoryBytes(const std::filesystem::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec)) {
        std::error_code size_ec;
        if (it->is_regular_file(size_ec)) {
            const auto size = it->file_size(size_ec);
            if (!size_ec) {
                total += size;
            }
        }
    }
    return total;
}

}  // namespace phenix::bench_process
