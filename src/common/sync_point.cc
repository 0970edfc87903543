// SPDX-License-Identifier: Apache-2.0
#include "common/sync_point.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace phenix {

namespace {

struct Registry {
    std::mutex mu;
    // shared_ptr: a callback may still run on another thread after ClearAll removed it.
    std::map<std::string, std::shared_ptr<std::function<void(void*)>>, std::less<>> callbacks;
    std::map<std::string, int, std::less<>> hits;
};

Registry& GetRegistry() {
    static Registry* registry = new Registry();  // never destroyed: points may run at exit
    return *registry;
}

}  // namespace

std::atomic<bool> SyncPoints::enabled_{false};

void SyncPoints::Set(std::string_view name, std::function<void()> callback) {
    SetWithArg(name, [callback = std::move(callback)](void*) { callback(); });
}

void SyncPoints::SetWithArg(std::string_view name, std::function<void(void*)> callback) {
    Registry& registry = GetRegistry();
    std::lock_guard lock(registry.mu);
    registry.callbacks[std::string(name)] =
        std::make_shared<std::function<void(void*)>>(std::move(callback));
    registry.hits[std::string(name)] = 0;
    enabled_.store(true);
}

void SyncPoints::ClearAll() {
    Registry& registry = GetRegistry();
    std::lock_guard lock(registry.mu);
    registry.callbacks.clear();
    registry.hits.clear();
    enabled_.store(false);
}

int SyncPoints::Hits(std::string_view name) {
    Registry& registry = GetRegistry();
    std::lock_guard lock(registry.mu);
    auto it = registry.hits.find(name);
    return it == registry.hits.end() ? 0 : it->second;
}

void SyncPoints::Process(std::string_view name, void* arg) {
    Registry& registry = GetRegistry();
    std::shared_ptr<std::function<void(void*)>> callback;
    {
        std::lock_guard lock(registry.mu);
        auto it = registry.callbacks.find(name);
        if (it == registry.callbacks.end()) {
            return;
        }
        callback = it->second;
        ++registry.hits[std::string(name)];
    }
    (*callback)(arg);  // outside the registry lock: a callback may set or clear points
}

}  // namespace phenix
