// SPDX-License-Identifier: Apache-2.0
#include "crash/checker.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

namespace phenix::crash {

namespace {

using EntityKey = std::pair<std::string, std::string>;

// The hypothesis search gives up (an error, not a violation) beyond this many replayed steps.
constexpr std::uint64_t kMaxSearchSteps = 5'000'000;

EntityKey KeyOf(int coll, int id) {
    return {CollectionName(coll), EntityId(coll, id)};
}

ModelEntity FromEntity(const Entity& entity, const std::string& collection) {
    ModelEntity out;
    out.vector = entity.vector;
    out.metadata = nlohmann::json::parse(entity.metadata, nullptr, /*allow_exceptions=*/false);
    for (const Edge& edge : entity.edges) {
        const std::string& target_coll =
            edge.target_collection.empty() ? collection : edge.target_collection;
        out.edges[{edge.label, target_coll, edge.target_id}] = edge.weight;  // the last one wins
    }
    return out;
}

// Every entity a transaction writes or links to. Two transactions whose sets are disjoint
// commute: the same final state (and the same validity) whichever commits first. (A delete also
// removes edges held by entities outside the set, but only edges into the deleted entity, which
// no commuting transaction writes, since it would have to name the entity as an edge target.)
std::set<EntityKey> Touched(const TxnRecord& txn) {
    std::set<EntityKey> keys;
    for (const TxnOp& op : txn.ops) {
        keys.insert(KeyOf(op.coll, op.id));
        for (const EdgeSpec& edge : op.edges) {
            keys.insert(KeyOf(edge.target_coll, edge.target_id));
        }
    }
    return keys;
}

bool Intersects(const std::set<EntityKey>& a, const std::set<EntityKey>& b) {
    return std::any_of(a.begin(), a.end(), [&](const EntityKey& key) { return b.contains(key); });
}

std::string Describe(const EntityKey& key, const ModelEntity& entity) {
    std::ostringstream out;
    out << key.first << "/" << key.second << " " << entity.metadata.dump() << " v=[";
    for (std::size_t idx = 0; idx < entity.vector.size(); ++idx) {
        out << (idx == 0 ? "" : ",") << entity.vector[idx];
    }
    out << "] edges={";
    bool first = true;
    for (const auto& [edge, weight] : entity.edges) {
        out << (first ? "" : " ") << std::get<0>(edge) << "->" << std::get<1>(edge) << "/"
            << std::get<2>(edge) << "@" << weight;
        first = false;
    }
    out << "}";
    return out.str();
}

std::string TxnName(const TxnRecord& txn) {
    std::string out = "txn " + std::to_string(txn.number) + " [";
    for (std::size_t idx = 0; idx < txn.ops.size(); ++idx) {
        out += (idx == 0 ? "" : " ") + FormatOp(txn.ops[idx]);
    }
    out += "]";
    switch (txn.outcome) {
        case TxnRecord::Outcome::kAcked:
            out += " acknowledged at ts " + std::to_string(txn.commit_ts);
            break;
        case TxnRecord::Outcome::kAborted:
            out += " aborted";
            break;
        case TxnRecord::Outcome::kRolledBack:
            out += " rolled back";
            break;
        case TxnRecord::Outcome::kUnknown:
            out += txn.will_roll_back ? " rolled back (outcome not logged)" : " in flight";
            break;
    }
    return out;
}

}  // namespace

Result<ParsedLog> ParseLog(const std::string& text) {
    ParsedLog log;
    std::map<std::uint64_t, std::size_t> by_number;
    Timestamp max_acked = 0;
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            break;  // torn last line: never acknowledged anything
        }
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        auto bad = [&](const std::string& why) {
            return Status::InvalidArgument("log line " + std::to_string(line_no) + " '" + line +
                                           "': " + why);
        };
        std::istringstream fields(line);
        std::string kind;
        fields >> kind;
        if (kind == "R") {
            log.ready = true;
            continue;
        }
        std::uint64_t number = 0;
        if (!(fields >> number)) {
            return bad("no transaction number");
        }
        if (kind == "T") {
            if (by_number.contains(number)) {
                return bad("transaction number reused");
            }
            TxnRecord txn;
            txn.number = number;
            std::string mode;
            fields >> mode;
            if (mode != "c" && mode != "r") {
                return bad("mode is neither c nor r");
            }
            txn.will_roll_back = mode == "r";
            for (std::string token; fields >> token;) {
                auto op = ParseOp(token);
                if (!op) {
                    return bad("bad op '" + token + "'");
                }
                txn.ops.push_back(std::move(*op));
            }
            if (txn.ops.empty()) {
                return bad("no ops");
            }
            txn.ts_lower_bound = max_acked;
            by_number[number] = log.txns.size();
            log.txns.push_back(std::move(txn));
            continue;
        }
        auto it = by_number.find(number);
        if (it == by_number.end()) {
            return bad("outcome of a transaction without intent");
        }
        TxnRecord& txn = log.txns[it->second];
        if (txn.outcome != TxnRecord::Outcome::kUnknown) {
            return bad("second outcome");
        }
        if (kind == "A") {
            Timestamp ts = 0;
            if (!(fields >> ts) || txn.will_roll_back) {
                return bad("bad acknowledgement");
            }
            txn.outcome = TxnRecord::Outcome::kAcked;
            txn.commit_ts = ts;
            max_acked = std::max(max_acked, ts);
        } else if (kind == "X") {
            std::string why;
            fields >> why;
            if (why == "aborted") {
                txn.outcome = TxnRecord::Outcome::kAborted;
            } else if (why == "rolledback") {
                txn.outcome = TxnRecord::Outcome::kRolledBack;
            } else {
                return bad("unknown reason");
            }
        } else {
            return bad("unknown kind");
        }
    }
    return log;
}

std::optional<std::string> ApplyTxn(const TxnRecord& txn, ModelState& state) {
    std::vector<EntityKey> linked;  // entities that got new out-edges
    for (std::size_t op_idx = 0; op_idx < txn.ops.size(); ++op_idx) {
        const TxnOp& op = txn.ops[op_idx];
        const EntityKey key = KeyOf(op.coll, op.id);
        auto it = state.find(key);
        const std::string what = FormatOp(op) + " (op " + std::to_string(op_idx) + " of txn " +
                                 std::to_string(txn.number) + ")";
        switch (op.kind) {
            case OpKind::kInsert:
                if (it != state.end()) {
                    return what + " inserts an id that exists";
                }
                [[fallthrough]];
            case OpKind::kUpsert:
                state[key] = FromEntity(MakeEntity(op, txn.number, op_idx), key.first);
                linked.push_back(key);
                break;
            case OpKind::kPatch:
                if (it == state.end()) {
                    return what + " patches a missing entity";
                }
                it->second.metadata.merge_patch(
                    nlohmann::json::parse(MetadataPatch(op, txn.number, op_idx)));
                break;
            case OpKind::kReplace:
                if (it == state.end()) {
                    return what + " replaces the metadata of a missing entity";
                }
                it->second.metadata =
                    nlohmann::json::parse(ReplacementMetadata(op, txn.number, op_idx));
                break;
            case OpKind::kDelete:
                if (it == state.end()) {
                    return what + " deletes a missing entity";
                }
                state.erase(it);
                for (auto& [source, entity] : state) {
                    std::erase_if(entity.edges, [&](const auto& edge) {
                        return std::get<1>(edge.first) == key.first &&
                               std::get<2>(edge.first) == key.second;
                    });
                }
                break;
        }
    }
    for (const EntityKey& source : linked) {
        auto it = state.find(source);
        if (it == state.end()) {
            continue;  // deleted later in the same transaction
        }
        for (const auto& [edge, weight] : it->second.edges) {
            if (!state.contains({std::get<1>(edge), std::get<2>(edge)})) {
                return "txn " + std::to_string(txn.number) + " leaves an edge from " +
                       source.second + " to missing " + std::get<2>(edge);
            }
        }
    }
    return std::nullopt;
}

std::string DiffStates(const ModelState& expected, const ModelState& actual,
                       std::size_t max_lines) {
    std::ostringstream out;
    std::size_t lines = 0;
    auto line = [&](const std::string& text) {
        if (lines++ < max_lines) {
            out << "\n    " << text;
        }
    };
    for (const auto& [key, entity] : expected) {
        auto it = actual.find(key);
        if (it == actual.end()) {
            line("missing:  " + Describe(key, entity));
        } else if (!(it->second == entity)) {
            line("expected: " + Describe(key, entity));
            line("actual:   " + Describe(key, it->second));
        }
    }
    for (const auto& [key, entity] : actual) {
        if (!expected.contains(key)) {
            line("extra:    " + Describe(key, entity));
        }
    }
    if (lines > max_lines) {
        out << "\n    ... " << (lines - max_lines) << " more lines";
    }
    return out.str();
}

void Checker::Violation(const std::string& what) const {
    std::fprintf(stderr,
                 "crash-test: VIOLATION: %s\ncrash-test: found in round %d; replay with %s\n",
                 what.c_str(), round_, replay_hint_.c_str());
    std::fflush(stderr);
    if (!remove_on_violation_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(remove_on_violation_, ignored);
    }
    // _Exit, not exit: the database under check is still open, and its background threads
    // (maintenance, index builders) must not meet static objects that exit() destroys (an
    // abort there turned a caught violation into a failed test).
    std::fflush(stdout);
    std::_Exit(1);
}

ModelState Checker::ReadAndCheckStructure(Database& db) const {
    ModelState state;
    for (int coll = 0; coll < kNumCollections; ++coll) {
        const std::string name = CollectionName(coll);
        auto info = db.GetCollection(name);
        if (!info.ok()) {
            Violation("collection " + name + " after reopen: " + info.status().ToString());
        }
        std::uint64_t num_scanned = 0;
        ScanOptions options{.limit = 1000, .include_edges = true};
        while (true) {
            auto page = db.Scan(name, options);
            if (!page.ok()) {
                Violation("scan of " + name + ": " + page.status().ToString());
            }
            for (const Entity& entity : page->entities) {
                ModelEntity model = FromEntity(entity, name);
                if (model.edges.size() != entity.edges.size()) {
                    Violation(name + "/" + entity.id +
                              " has two edges with the same label and "
                              "target");
                }
                if (!model.metadata.is_object()) {
                    Violation(name + "/" + entity.id + " has unparsable metadata " +
                              entity.metadata);
                }
                state[{name, entity.id}] = std::move(model);
                ++num_scanned;
            }
            if (page->next_start_after.empty()) {
                break;
            }
            options.start_after = page->next_start_after;
        }
        if (info->num_entities != num_scanned) {
            Violation("(e) collection " + name + " counts " + std::to_string(info->num_entities) +
                      " entities but a scan finds " + std::to_string(num_scanned));
        }
    }
    const Status verified = db.Verify();
    if (!verified.ok()) {
        Violation("(d) Verify after reopen: " + verified.ToString());
    }
    // Out-edges point at entities that exist, and in-edges mirror them exactly.
    std::map<EntityKey, std::multiset<std::string>> expected_in;
    for (const auto& [key, entity] : state) {
        for (const auto& [edge, weight] : entity.edges) {
            const EntityKey target{std::get<1>(edge), std::get<2>(edge)};
            if (!state.contains(target)) {
                Violation("(d) " + key.first + "/" + key.second + " has a dangling edge to " +
                          target.first + "/" + target.second);
            }
            expected_in[target].insert(key.first + "/" + key.second + " " + std::get<0>(edge));
        }
    }
    for (const auto& [key, entity] : state) {
        auto in = db.ListEdges(key.first, key.second, EdgeDirection::kIn);
        if (!in.ok()) {
            Violation("in-edges of " + key.second + ": " + in.status().ToString());
        }
        std::multiset<std::string> actual_in;
        for (const EdgeRecord& edge : *in) {
            actual_in.insert(edge.source.name + "/" + edge.source_id + " " + edge.label);
        }
        if (actual_in != expected_in[key]) {
            Violation("(d) the in-edges of " + key.first + "/" + key.second + " (" +
                      std::to_string(actual_in.size()) + ") do not mirror the out-edges into it (" +
                      std::to_string(expected_in[key].size()) + ")");
        }
    }
    return state;
}

void Checker::Reset(Database& db) {
    model_ = ReadAndCheckStructure(db);
}

void Checker::CheckTimestamps(Database& db, const ParsedLog& log) const {
    Timestamp max_acked = 0;
    std::map<Timestamp, const TxnRecord*> by_ts;
    for (const TxnRecord& txn : log.txns) {
        if (txn.outcome != TxnRecord::Outcome::kAcked) {
            continue;
        }
        max_acked = std::max(max_acked, txn.commit_ts);
        if (txn.commit_ts <= txn.ts_lower_bound) {
            Violation("commit timestamps go backwards: " + TxnName(txn) +
                      " began committing after a commit at ts " +
                      std::to_string(txn.ts_lower_bound) + " was acknowledged");
        }
        if (txn.commit_ts <= max_acked_ts_) {
            Violation("commit timestamps go backwards across a restart: " + TxnName(txn) +
                      ", but an earlier round acknowledged ts " + std::to_string(max_acked_ts_));
        }
        auto [it, inserted] = by_ts.emplace(txn.commit_ts, &txn);
        if (!inserted && Intersects(Touched(txn), Touched(*it->second))) {
            Violation("two conflicting transactions committed at the same timestamp: " +
                      TxnName(txn) + " and " + TxnName(*it->second));
        }
    }
    const Timestamp current = db.CurrentTimestamp();
    if (current < max_acked) {
        Violation("CurrentTimestamp() after reopen is " + std::to_string(current) +
                  ", older than the acknowledged commit at ts " + std::to_string(max_acked));
    }
}

void Checker::CheckRound(Database& db, const ParsedLog& log) {
    const ModelState actual = ReadAndCheckStructure(db);
    CheckTimestamps(db, log);

    std::vector<const TxnRecord*> acked;
    std::vector<const TxnRecord*> in_flight;
    for (const TxnRecord& txn : log.txns) {
        switch (txn.outcome) {
            case TxnRecord::Outcome::kAcked:
                acked.push_back(&txn);
                ++stats_.num_acked;
                break;
            case TxnRecord::Outcome::kAborted:
                ++stats_.num_aborted;
                break;
            case TxnRecord::Outcome::kRolledBack:
                ++stats_.num_rolled_back;
                break;
            case TxnRecord::Outcome::kUnknown:
                if (txn.will_roll_back) {
                    ++stats_.num_rolled_back;  // killed before it logged its rollback
                } else {
                    in_flight.push_back(&txn);
                }
                break;
        }
    }
    std::stable_sort(acked.begin(), acked.end(), [](const TxnRecord* a, const TxnRecord* b) {
        return a->commit_ts < b->commit_ts;
    });

    // Acknowledged commits older than every in-flight transaction's lower bound come first,
    // in timestamp order, whatever the in-flight ones did.
    Timestamp split = std::numeric_limits<Timestamp>::max();
    for (const TxnRecord* txn : in_flight) {
        split = std::min(split, txn->ts_lower_bound);
    }
    ModelState base = model_;
    std::size_t num_prefix = 0;
    for (; num_prefix < acked.size() && acked[num_prefix]->commit_ts <= split; ++num_prefix) {
        if (auto why = ApplyTxn(*acked[num_prefix], base)) {
            Violation("the acknowledged transactions do not replay in commit-timestamp order: " +
                      *why + "; " + TxnName(*acked[num_prefix]) +
                      ". Either a write-write conflict went undetected (both committed), or a "
                      "transaction took effect that was never acknowledged (an aborted or "
                      "rolled-back one).");
        }
    }
    const std::vector<const TxnRecord*> tail(
        acked.begin() + static_cast<std::ptrdiff_t>(num_prefix), acked.end());

    // Search: the tail in timestamp order, with each in-flight transaction of a subset inserted
    // whole somewhere after its lower bound. Positions that differ only by commuting
    // transactions are equivalent; only the earliest of them is tried.
    const std::size_t num_flight = in_flight.size();
    std::vector<std::set<EntityKey>> tail_touched;
    for (const TxnRecord* txn : tail) {
        tail_touched.push_back(Touched(*txn));
    }
    std::vector<std::set<EntityKey>> flight_touched;
    std::vector<std::size_t> earliest;  // tail index before which an in-flight txn may go
    for (const TxnRecord* txn : in_flight) {
        flight_touched.push_back(Touched(*txn));
        std::size_t need = 0;
        while (need < tail.size() && tail[need]->commit_ts <= txn->ts_lower_bound) {
            ++need;
        }
        earliest.push_back(need);
    }
    std::vector<std::uint32_t> matches;  // subsets of in_flight (bit masks) that explain it all
    std::uint64_t steps = 0;
    for (std::uint32_t subset = 0; subset < (1u << num_flight); ++subset) {
        bool matched = false;
        // Replays from `state`: the tail from tail_idx on, plus the `unplaced` in-flight txns.
        // placed_here: an in-flight txn was placed since tail[tail_idx - 1].
        std::function<void(const ModelState&, std::size_t, std::uint32_t, bool)> explore =
            [&](const ModelState& state, std::size_t tail_idx, std::uint32_t unplaced,
                bool placed_here) {
                if (tail_idx == tail.size() && unplaced == 0) {
                    ++stats_.num_hypotheses;
                    matched = state == actual;
                    return;
                }
                if (++steps > kMaxSearchSteps) {
                    std::fprintf(stderr,
                                 "crash-test: ERROR: the hypothesis search exceeded %llu steps "
                                 "(%zu acknowledged after the first in-flight, %zu in flight)\n",
                                 static_cast<unsigned long long>(kMaxSearchSteps), tail.size(),
                                 num_flight);
                    std::fflush(stderr);
                    std::_Exit(1);  // as in Violation: the database is still open
                }
                for (std::size_t flight_idx = 0; flight_idx < num_flight && !matched;
                     ++flight_idx) {
                    const std::uint32_t bit = 1u << flight_idx;
                    if ((unplaced & bit) == 0 || tail_idx < earliest[flight_idx]) {
                        continue;
                    }
                    // Any history can be normalised by moving each in-flight txn earlier past the
                    // commuting tail txns before it. So place one later than its earliest
                    // position only right after a tail txn it does not commute with, or after
                    // another in-flight txn.
                    if (tail_idx != earliest[flight_idx] && !placed_here &&
                        !Intersects(flight_touched[flight_idx], tail_touched[tail_idx - 1])) {
                        continue;
                    }
                    ModelState next = state;
                    if (!ApplyTxn(*in_flight[flight_idx], next)) {
                        explore(next, tail_idx, unplaced & ~bit, true);
                    }
                }
                if (tail_idx < tail.size() && !matched) {
                    ModelState next = state;
                    if (!ApplyTxn(*tail[tail_idx], next)) {
                        explore(next, tail_idx + 1, unplaced, false);
                    }
                }
            };
        explore(base, 0, subset, false);
        if (matched) {
            matches.push_back(subset);
        }
    }

    if (matches.empty()) {
        // Explain against the most likely history: every acknowledged transaction, none of the
        // in-flight ones.
        ModelState expected = base;
        std::string replay_problem;
        for (const TxnRecord* txn : tail) {
            if (auto why = ApplyTxn(*txn, expected)) {
                replay_problem =
                    "\n  (and the acknowledged ones alone do not replay: " + *why + ")";
                break;
            }
        }
        std::map<std::uint64_t, const TxnRecord*> by_number;
        for (const TxnRecord& txn : log.txns) {
            by_number[txn.number] = &txn;
        }
        std::string culprits;
        for (const auto& [key, entity] : actual) {
            auto it = expected.find(key);
            if (it != expected.end() && it->second == entity) {
                continue;
            }
            const auto txn = entity.metadata.value("txn", std::uint64_t{0});
            auto found = by_number.find(txn);
            if (found != by_number.end() && found->second->outcome != TxnRecord::Outcome::kAcked) {
                culprits += "\n  " + key.second + " was last written by " + TxnName(*found->second);
            }
        }
        std::string flights;
        for (const TxnRecord* txn : in_flight) {
            flights += "\n  " + TxnName(*txn);
        }
        Violation("the database after the crash is not the acknowledged transactions (" +
                  std::to_string(acked.size()) + ") plus an all-or-nothing subset of the " +
                  std::to_string(num_flight) +
                  " in flight, so an acknowledged transaction is missing (a), an in-flight one is "
                  "partial (b), or an aborted or rolled-back one left a trace (c)." +
                  culprits + "\n  in flight:" + (flights.empty() ? " none" : flights) +
                  replay_problem +
                  "\n  expected (acknowledged only) vs actual:" + DiffStates(expected, actual));
    }
    for (std::size_t flight_idx = 0; flight_idx < num_flight; ++flight_idx) {
        const std::uint32_t bit = 1u << flight_idx;
        const bool always = std::all_of(matches.begin(), matches.end(),
                                        [&](std::uint32_t m) { return (m & bit) != 0; });
        const bool never = std::none_of(matches.begin(), matches.end(),
                                        [&](std::uint32_t m) { return (m & bit) != 0; });
        if (always) {
            ++stats_.num_inflight_present;
        } else if (never) {
            ++stats_.num_inflight_absent;
        } else {
            ++stats_.num_inflight_unobservable;
        }
    }
    for (const TxnRecord* txn : acked) {
        max_acked_ts_ = std::max(max_acked_ts_, txn->commit_ts);
    }
    model_ = actual;
}

}  // namespace phenix::crash

namespace phenix::crash {

void Checker::CheckVectorIndexes(Database& db,
                                 const std::map<std::string, bool>& checkpoint_present) {
    for (const CollectionDef& def : kCollections) {
        const std::string name = def.name;
        // Where the index came from is asserted, not assumed: a checkpoint that existed before
        // the reopen (they are replaced atomically, never torn) must have been loaded.
        auto info = db.GetVectorIndexInfo(name);
        if (!info.ok()) {
            Violation("vector index info of " + name + ": " + info.status().ToString());
        }
        auto present = checkpoint_present.find(name);
        const bool had_checkpoint = present != checkpoint_present.end() && present->second;
        if (had_checkpoint && !info->loaded_from_checkpoint) {
            Violation("the vector index of " + name +
                      " was rebuilt although its checkpoint existed: " +
                      (info->checkpoint_rejected.empty() ? std::string("no reason given")
                                                         : info->checkpoint_rejected));
        }
        if (!had_checkpoint && info->loaded_from_checkpoint) {
            Violation("the vector index of " + name + " claims a checkpoint that did not exist");
        }
        ++(info->loaded_from_checkpoint ? stats_.num_checkpoints_loaded
                                        : stats_.num_indexes_rebuilt);
        if (!info->indexing_error.empty()) {
            Violation("the vector index of " + name + " stopped: " + info->indexing_error);
        }

        std::set<std::string> expected;
        for (const auto& [key, entity] : model_) {
            if (key.first != name || entity.vector.empty()) {
                continue;
            }
            expected.insert(key.second);
            // Findable with exactly its model vector: a search restricted to it returns it at
            // the distance that vector gives.
            SearchOptions options{.k = 1, .filter_ids = std::vector<std::string>{key.second}};
            auto found = db.Search(name, entity.vector, options);
            ++stats_.num_vector_searches;
            if (!found.ok() || found->hits.size() != 1 || found->hits[0].id != key.second) {
                Violation("entity " + key.second + " of " + name +
                          " is not found by a search for its own vector" +
                          (found.ok() ? "" : ": " + found.status().ToString()));
            }
            double want = 0;
            if (def.metric == Metric::kInnerProduct) {
                for (const float x : entity.vector) {
                    want -= static_cast<double>(x) * x;
                }
            }
            const double got = found->hits[0].distance;
            if (std::abs(got - want) > 1e-4 * std::max(1.0, std::abs(want))) {
                Violation("entity " + key.second + " of " + name + " is searchable at distance " +
                          std::to_string(got) + " from its own vector, not " +
                          std::to_string(want) + ": the index holds another version");
            }
        }
        if (expected.empty()) {
            continue;
        }
        // An unrestricted search for as many as exist returns exactly them: no deleted or
        // replaced version, nothing missing.
        const auto& any = model_.at({name, *expected.begin()}).vector;
        const auto k = static_cast<std::uint32_t>(expected.size());
        auto all = db.Search(name, any, {.k = k, .ef = k});
        ++stats_.num_vector_searches;
        if (!all.ok()) {
            Violation("search of " + name + ": " + all.status().ToString());
        }
        std::set<std::string> got;
        for (const SearchHit& hit : all->hits) {
            if (!got.insert(hit.id).second) {
                Violation("a search of " + name + " returned " + hit.id + " twice");
            }
        }
        if (got != expected) {
            std::string extra;
            std::string missing;
            for (const std::string& id : got) {
                extra += expected.count(id) ? "" : " " + id;
            }
            for (const std::string& id : expected) {
                missing += got.count(id) ? "" : " " + id;
            }
            Violation("a search of " + name + " for all " + std::to_string(expected.size()) +
                      " entities returned others (extra:" + extra + "; missing:" + missing + ")");
        }
    }
}

}  // namespace phenix::crash
