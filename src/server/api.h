// SPDX-License-Identifier: Apache-2.0
//
// The REST/JSON API under /v1 (docs/server.md), plus /health and /ready: handlers that parse
// a request, call QuerySession / Database, and render the result. No query logic lives here.
//
// Thread safety: handlers run concurrently on workers; ApiState is shared through atomics.
#pragma once

#include <atomic>
#include <string>

#include <phenix/db.h>

#include "server/access.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/transactions.h"

namespace phenix::server {

enum class ServingState { kStarting, kReady, kDraining };

struct ApiState {
    /// Null until the database is open (then the /v1 routes answer 503).
    std::atomic<Database*> db{nullptr};
    std::atomic<ServingState> state{ServingState::kStarting};
    /// Set once before serving: COPY's directory for every session.
    std::string copy_directory;
    /// Set once before serving: the interactive transactions.
    TransactionRegistry* transactions = nullptr;
    /// Set once before serving.
    Metrics* metrics = nullptr;
    /// Set once before serving: the enforcement point (per-statement authorization, transaction
    /// owners). Never null while serving.
    const AccessControl* access = nullptr;
};

/// Adds every route to `router`. `state` must outlive the router's use.
void RegisterRoutes(Router& router, ApiState& state);

}  // namespace phenix::server
