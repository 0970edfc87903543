// SPDX-License-Identifier: Apache-2.0
//
// `phenix stats [--collection NAME] [OPTIONS]`: the health summary of SHOW STATS for a person
// at a prompt (docs/shell.md), on a data directory opened here (--data) or a server (--url).
#pragma once

#include <cstdio>
#include <string>

#include "backend.h"
#include "meta_command.h"
#include "output.h"

namespace phenix::shell {

struct StatsRequest {
    std::string collection;  // --collection: SHOW STATS FOR it; empty: the whole summary
    bool is_remote = false;
    OutputFormat format = OutputFormat::kTable;
};

/// Runs the summary's statement through `backend`: SHOW STATS FOR the collection, or SHOW
/// DATABASE STATS (falling back to SHOW STATS, with a note on stderr, when a server refuses a
/// non-administrator the engine-wide figures). Table format: grouped by scope, values in human
/// units, warnings after '!', other notes in parentheses; json and csv print the statement's
/// rows through `printer`.
/// The statement's error, if it failed (nothing printed then).
Status RunStatsCommand(Backend& backend, Printer& printer, const StatsRequest& request,
                       std::FILE* out);

}  // namespace phenix::shell
