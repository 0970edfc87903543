// SPDX-License-Identifier: Apache-2.0
//
// Transport-neutral operations that both the REST handlers (api.cc) and the gRPC service
// (grpc_service.cc) call, so the two transports answer the same way by construction: each takes
// engine values (no JSON, no protobuf) and returns a Status or Result with the codes the error
// table (errors.h) maps to HTTP and gRPC.
//
// Thread safety: pure functions over a thread-safe Database.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <phenix/db.h>
#include <phenix/result.h>
#include <phenix/status.h>

#include "server/http_types.h"

namespace phenix::server {

struct PutCollectionOutcome {
    /// OK (created, or an identical collection existed), AlreadyExists (the name exists with
    /// other settings: `info` is the existing collection), or the engine's error.
    Status status;
    /// The collection, when `status` is OK or AlreadyExists.
    std::optional<CollectionInfo> info;
    /// True when this call created it.
    bool created = false;
};

/// PUT /v1/collections/{name} and CreateCollection: idempotent creation. `spec.settings` is the
/// JSON object of settings ({"hnsw": {...}} or {}).
PutCollectionOutcome PutCollection(Database& db, const CollectionSpec& spec);

struct UpsertOutcome {
    std::uint64_t upserted = 0;
    Timestamp timestamp = 0;  ///< the database's commit timestamp after the write
};

/// Upserts `entities` into `ref` in one atomic write. An empty list writes nothing but still
/// fails with NotFound when the collection does not exist. Errors of Database::Write
/// (InvalidArgument for an entity the engine refuses: dimension, NaN, limits).
Result<UpsertOutcome> UpsertEntities(Database& db, const CollectionRef& ref,
                                     std::vector<Entity> entities);

/// The status of a failed engine call that ran under `context`'s deadline: a Cancelled caused by
/// the passed deadline becomes DeadlineExceeded; anything else is returned as it is.
Status EngineStatus(const Status& status, const RequestContext& context);

}  // namespace phenix::server
