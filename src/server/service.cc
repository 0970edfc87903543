// SPDX-License-Identifier: Apache-2.0
#include "server/service.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include <phenix/write_batch.h>

namespace phenix::server {

PutCollectionOutcome PutCollection(Database& db, const CollectionSpec& spec) {
    PutCollectionOutcome outcome;
    Status created = db.CreateCollection(spec);
    if (!created.ok() && !created.IsAlreadyExists()) {
        outcome.status = created;
        return outcome;
    }
    auto info = db.GetCollection(spec.ref);
    if (!info.ok()) {
        outcome.status = info.status();
        return outcome;
    }
    outcome.info = std::move(*info);
    if (created.ok()) {
        outcome.created = true;
        return outcome;
    }
    // The name exists: identical settings are success (creation is idempotent), others a
    // conflict. A collection created without "hnsw" settings matches a request without them.
    const nlohmann::json settings = nlohmann::json::parse(spec.settings, nullptr, false);
    const nlohmann::json existing =
        nlohmann::json::parse(outcome.info->spec.settings, nullptr, false);
    const bool identical =
        outcome.info->spec.dimension == spec.dimension &&
        outcome.info->spec.metric == spec.metric &&
        (existing == settings || (settings.is_object() && settings.empty() &&
                                  existing.is_object() && !existing.contains("hnsw")));
    if (!identical) {
        outcome.status =
            Status::AlreadyExists("collection '" + spec.ref.name +
                                  "' exists with different settings (dimension, metric or hnsw)");
    }
    return outcome;
}

Result<UpsertOutcome> UpsertEntities(Database& db, const CollectionRef& ref,
                                     std::vector<Entity> entities) {
    UpsertOutcome outcome;
    if (entities.empty()) {
        PHENIX_RETURN_IF_ERROR(db.GetCollection(ref).status());
    } else {
        WriteBatch batch;
        for (Entity& entity : entities) {
            batch.Upsert(ref, std::move(entity));
        }
        PHENIX_RETURN_IF_ERROR(db.Write(batch));
        outcome.upserted = batch.size();
    }
    outcome.timestamp = db.CurrentTimestamp();
    return outcome;
}

Status EngineStatus(const Status& status, const RequestContext& context) {
    if (status.code() == StatusCode::kCancelled && context.DeadlinePassed()) {
        return Status(StatusCode::kDeadlineExceeded,
                      "the request deadline passed: " + status.message());
    }
    return status;
}

}  // namespace phenix::server
