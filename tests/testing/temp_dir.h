// SPDX-License-Identifier: Apache-2.0
//
// TempDir — a fresh directory under $TMPDIR (or /tmp) removed with everything in it when the
// object is destroyed. Tests use one per test so they never share state.
#pragma once

#include <string>

namespace phenix::testing {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    /// path() + "/" + name
    [[nodiscard]] std::string Sub(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

}  // namespace phenix::testing
