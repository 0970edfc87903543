// SPDX-License-Identifier: Apache-2.0
// The bank workload: writer threads move random amounts between accounts in transactions (read
// both balances, patch both, add the amount to the weight of the "paid" edge from payer to payee)
// and retry on Aborted; reader threads check every read-only snapshot, current and AS OF, for
//   sum of balances == initial total, and
//   balance == initial - sum of out-edge weights + sum of in-edge weights, per account.
// A lost update, a torn commit, a snapshot mixing two commits or an edge half out of step with
// its entity breaks one of them. Also: concurrent increments and racing inserts of one id.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "unit/engine/txn_fixture.h"

namespace phenix {
namespace {

using testing::TxnTest;

constexpr int kNumAccounts = 20;
constexpr std::int64_t kInitialBalance = 1000;
constexpr std::int64_t kMaxAmount = 100;
constexpr int kNumWriters = 4;
constexpr int kNumReaders = 2;
constexpr auto kRunTime = std::chrono::milliseconds(1500);
constexpr const char* kAccounts = "accounts";
constexpr const char* kPaid = "paid";

std::string AccountId(int idx) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "acct%02d", idx);
    return buf;
}

std::string Balance(std::int64_t balance) {
    return R"({"balance":)" + std::to_string(balance) + "}";
}

// A metadata integer, or nullopt.
std::optional<std::int64_t> BalanceOf(const Entity& entity) {
    auto json = nlohmann::json::parse(entity.metadata, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("balance") || !json["balance"].is_number_integer()) {
        return std::nullopt;
    }
    return json["balance"].get<std::int64_t>();
}

// One committed transfer, for the AS OF checks and the final oracle.
struct CommitRecord {
    Timestamp commit_ts = 0;
    std::string from;
    std::string to;
    std::int64_t amount = 0;
    std::int64_t from_balance = 0;  // after the transfer
    std::int64_t to_balance = 0;
};

// Checks the invariants on what `txn` sees. Returns an empty string when they hold, else why not.
std::string CheckSnapshot(Transaction& txn) {
    auto page = txn.Scan(kAccounts, ScanOptions{.limit = 1000, .include_edges = true});
    if (!page.ok()) {
        return "Scan: " + page.status().ToString();
    }
    if (page->entities.size() != static_cast<std::size_t>(kNumAccounts)) {
        return "Scan returned " + std::to_string(page->entities.size()) + " accounts";
    }
    std::map<std::string, std::int64_t> balance;
    std::map<std::string, double> out_sum;
    std::map<std::string, double> in_sum;
    std::int64_t total = 0;
    for (const Entity& e : page->entities) {
        auto b = BalanceOf(e);
        if (!b) {
            return "account " + e.id + " has no balance: " + e.metadata;
        }
        balance[e.id] = *b;
        total += *b;
        for (const Edge& edge : e.edges) {
            if (edge.label != kPaid || !edge.target_collection.empty()) {
                return "unexpected edge " + edge.label + " from " + e.id;
            }
            out_sum[e.id] += edge.weight;
            in_sum[edge.target_id] += edge.weight;
        }
    }
    if (total != kNumAccounts * kInitialBalance) {
        return "total " + std::to_string(total) +
               " != " + std::to_string(kNumAccounts * kInitialBalance);
    }
    for (const auto& [id, b] : balance) {
        // Amounts are integers, so these double sums are exact.
        const double expected = static_cast<double>(kInitialBalance) - out_sum[id] + in_sum[id];
        if (static_cast<double>(b) != expected) {
            return "account " + id + " balance " + std::to_string(b) + " but edges say " +
                   std::to_string(expected);
        }
        // The in-edge index agrees with the out-edge lists of the same snapshot.
        auto both = txn.ListEdges(kAccounts, id, EdgeDirection::kBoth);
        if (!both.ok()) {
            return "ListEdges(" + id + "): " + both.status().ToString();
        }
        double listed_in = 0;
        double listed_out = 0;
        for (const EdgeRecord& edge : *both) {
            if (edge.target_id == id) {
                listed_in += edge.weight;
            }
            if (edge.source_id == id) {
                listed_out += edge.weight;
            }
        }
        if (listed_in != in_sum[id] || listed_out != out_sum[id]) {
            return "ListEdges(" + id + ") in " + std::to_string(listed_in) + " out " +
                   std::to_string(listed_out) + " but Scan says in " + std::to_string(in_sum[id]) +
                   " out " + std::to_string(out_sum[id]);
        }
    }
    return "";
}

class Bank : public TxnTest {
  protected:
    void SetUp() override {
        TxnTest::SetUp();
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = kAccounts}));
        for (int idx = 0; idx < kNumAccounts; ++idx) {
            PHENIX_ASSERT_OK(db_->Insert(
                kAccounts, Entity{.id = AccountId(idx), .metadata = Balance(kInitialBalance)}));
        }
    }

    // One transfer attempt in `txn`. Non-OK only for an unexpected failure (never Aborted: a
    // conflict is reported by Commit).
    static Status Transfer(Transaction& txn, const std::string& from, const std::string& to,
                           std::int64_t amount, CommitRecord& record) {
        auto payer = txn.Get(kAccounts, from);
        auto payee = txn.Get(kAccounts, to);
        if (!payer.ok() || !payee.ok()) {
            return Status::Internal("Get: " + payer.status().ToString() + " / " +
                                    payee.status().ToString());
        }
        auto payer_balance = BalanceOf(*payer);
        auto payee_balance = BalanceOf(*payee);
        if (!payer_balance || !payee_balance) {
            return Status::Internal("no balance in " + payer->metadata + " / " + payee->metadata);
        }
        amount = std::min(amount, *payer_balance);
        record = CommitRecord{.from = from,
                              .to = to,
                              .amount = amount,
                              .from_balance = *payer_balance - amount,
                              .to_balance = *payee_balance + amount};
        PHENIX_RETURN_IF_ERROR(txn.PatchMetadata(kAccounts, to, Balance(record.to_balance)));
        PHENIX_RETURN_IF_ERROR(txn.PatchMetadata(kAccounts, from, Balance(record.from_balance)));
        // Read back the payer (own write) and add the amount to its edge, keeping the others.
        auto updated = txn.Get(kAccounts, from);
        if (!updated.ok()) {
            return Status::Internal("re-read: " + updated.status().ToString());
        }
        if (BalanceOf(*updated) != record.from_balance) {
            return Status::Internal("own patch not visible: " + updated->metadata);
        }
        auto edge = std::find_if(updated->edges.begin(), updated->edges.end(), [&](const Edge& e) {
            return e.label == kPaid && e.target_id == to;
        });
        if (edge == updated->edges.end()) {
            updated->edges.push_back(
                Edge{.label = kPaid, .target_id = to, .weight = static_cast<double>(amount)});
        } else {
            edge->weight += static_cast<double>(amount);
        }
        return txn.Upsert(kAccounts, *updated);
    }
};

TEST_F(Bank, TransfersKeepBalancesAndEdgesConsistentInEverySnapshot) {
    const unsigned seed = std::random_device{}();
    std::printf("[ seed     ] %u\n", seed);
    RecordProperty("seed", std::to_string(seed));

    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> num_commits{0};
    std::atomic<std::int64_t> num_aborts{0};
    std::atomic<std::int64_t> num_snapshots{0};
    std::atomic<std::int64_t> num_as_of_checks{0};
    std::mutex records_mu;
    std::vector<CommitRecord> records;  // guarded by records_mu

    auto writer = [&](int writer_idx) {
        std::mt19937_64 rng(seed + static_cast<unsigned>(writer_idx));
        std::uniform_int_distribution<int> pick(0, kNumAccounts - 1);
        std::uniform_int_distribution<std::int64_t> amount_dist(1, kMaxAmount);
        Timestamp last_ts = 0;
        while (!stop) {
            const int from_idx = pick(rng);
            int to_idx = pick(rng);
            if (to_idx == from_idx) {
                to_idx = (to_idx + 1) % kNumAccounts;
            }
            const std::int64_t amount = amount_dist(rng);
            while (!stop) {  // retry until committed
                auto txn = db_->BeginTransaction();
                if (!txn.ok()) {
                    ADD_FAILURE() << "BeginTransaction: " << txn.status().ToString();
                    return;
                }
                CommitRecord record;
                Status s = Transfer(**txn, AccountId(from_idx), AccountId(to_idx), amount, record);
                if (!s.ok()) {
                    ADD_FAILURE() << "transfer: " << s.ToString();
                    return;
                }
                auto committed = (*txn)->Commit();
                if (committed.ok()) {
                    record.commit_ts = *committed;
                    if (*committed <= last_ts) {
                        ADD_FAILURE() << "commit timestamp " << *committed
                                      << " not after this thread's previous " << last_ts;
                    }
                    if (*committed <= (*txn)->read_timestamp()) {
                        ADD_FAILURE()
                            << "commit timestamp " << *committed << " not after the read timestamp "
                            << (*txn)->read_timestamp();
                    }
                    last_ts = *committed;
                    ++num_commits;
                    std::lock_guard lock(records_mu);
                    records.push_back(std::move(record));
                    break;
                }
                if (committed.status().code() != StatusCode::kAborted) {
                    ADD_FAILURE() << "Commit failed with something other than Aborted: "
                                  << committed.status().ToString();
                    return;
                }
                ++num_aborts;
            }
        }
    };

    auto reader = [&](int reader_idx) {
        std::mt19937_64 rng(seed + 1000u + static_cast<unsigned>(reader_idx));
        std::int64_t iteration = 0;
        while (!stop) {
            ++iteration;
            TransactionOptions options{.read_only = true};
            std::optional<CommitRecord> target;
            if (iteration % 4 == 0) {  // every fourth snapshot is AS OF a recorded commit
                std::lock_guard lock(records_mu);
                if (!records.empty()) {
                    std::uniform_int_distribution<std::size_t> pick(0, records.size() - 1);
                    target = records[pick(rng)];
                    options.as_of = target->commit_ts;
                }
            }
            auto txn = db_->BeginTransaction(options);
            if (!txn.ok()) {
                ADD_FAILURE() << "BeginTransaction(read_only): " << txn.status().ToString();
                return;
            }
            const std::string problem = CheckSnapshot(**txn);
            if (!problem.empty()) {
                ADD_FAILURE() << "snapshot at " << (*txn)->read_timestamp()
                              << (target ? " (AS OF)" : "") << ": " << problem;
                return;
            }
            if (target) {
                EXPECT_EQ((*txn)->read_timestamp(), target->commit_ts);
                auto from = (*txn)->Get(kAccounts, target->from);
                auto to = (*txn)->Get(kAccounts, target->to);
                if (!from.ok() || !to.ok() || BalanceOf(*from) != target->from_balance ||
                    BalanceOf(*to) != target->to_balance) {
                    ADD_FAILURE() << "AS OF " << target->commit_ts
                                  << " does not show the balances that commit wrote";
                    return;
                }
                ++num_as_of_checks;
            } else {
                // Repeatable: the same snapshot scanned again is identical.
                auto first = (*txn)->Scan(kAccounts, ScanOptions{.limit = 1000});
                auto second = (*txn)->Scan(kAccounts, ScanOptions{.limit = 1000});
                if (!first.ok() || !second.ok() || first->entities != second->entities) {
                    ADD_FAILURE() << "two scans of one snapshot differ";
                    return;
                }
            }
            auto committed = (*txn)->Commit();
            if (!committed.ok()) {
                ADD_FAILURE() << "read-only Commit: " << committed.status().ToString();
                return;
            }
            ++num_snapshots;
        }
    };

    {
        std::vector<std::jthread> threads;
        for (int idx = 0; idx < kNumWriters; ++idx) {
            threads.emplace_back(writer, idx);
        }
        for (int idx = 0; idx < kNumReaders; ++idx) {
            threads.emplace_back(reader, idx);
        }
        std::this_thread::sleep_for(kRunTime);  // the workload's duration, not synchronization
        stop = true;
    }  // joins

    std::printf("[ bank     ] %" PRId64 " commits, %" PRId64 " aborts (retried), %" PRId64
                " snapshots checked, %" PRId64 " AS OF snapshots checked\n",
                num_commits.load(), num_aborts.load(), num_snapshots.load(),
                num_as_of_checks.load());
    RecordProperty("commits", std::to_string(num_commits.load()));
    RecordProperty("aborts", std::to_string(num_aborts.load()));
    RecordProperty("snapshots", std::to_string(num_snapshots.load()));
    RecordProperty("as_of_snapshots", std::to_string(num_as_of_checks.load()));
    EXPECT_GT(num_commits.load(), 0) << "no transfer committed";
    EXPECT_GT(num_snapshots.load(), 0) << "no snapshot was checked";
    ASSERT_EQ(records.size(), static_cast<std::size_t>(num_commits.load()));

    // The final state holds every committed transfer exactly once.
    std::map<std::pair<std::string, std::string>, std::int64_t> paid;
    std::map<std::string, std::int64_t> expected_balance;
    for (int idx = 0; idx < kNumAccounts; ++idx) {
        expected_balance[AccountId(idx)] = kInitialBalance;
    }
    std::sort(records.begin(), records.end(), [](const CommitRecord& a, const CommitRecord& b) {
        return a.commit_ts < b.commit_ts;
    });
    for (std::size_t idx = 0; idx < records.size(); ++idx) {
        const CommitRecord& r = records[idx];
        if (idx > 0) {
            EXPECT_LT(records[idx - 1].commit_ts, r.commit_ts) << "two commits share a timestamp";
        }
        paid[{r.from, r.to}] += r.amount;
        expected_balance[r.from] -= r.amount;
        expected_balance[r.to] += r.amount;
        // Replaying in commit order reproduces the balances each commit wrote.
        EXPECT_EQ(expected_balance[r.from], r.from_balance) << "commit " << r.commit_ts;
        EXPECT_EQ(expected_balance[r.to], r.to_balance) << "commit " << r.commit_ts;
    }
    auto final_txn = BeginReadOnly();
    ASSERT_NE(final_txn, nullptr);
    EXPECT_EQ(CheckSnapshot(*final_txn), "");
    auto page = final_txn->Scan(kAccounts, ScanOptions{.limit = 1000});
    ASSERT_TRUE(page.ok());
    std::map<std::pair<std::string, std::string>, std::int64_t> edges;
    for (const Entity& e : page->entities) {
        EXPECT_EQ(BalanceOf(e), expected_balance[e.id]) << e.id;
        for (const Edge& edge : e.edges) {
            edges[{e.id, edge.target_id}] = static_cast<std::int64_t>(edge.weight);
        }
    }
    for (const auto& [pair, amount] : paid) {
        EXPECT_EQ(edges[pair], amount) << pair.first << " -> " << pair.second;
    }
    EXPECT_EQ(edges.size(), paid.size());

    // AS OF snapshots at recorded commit timestamps, now that the workload is over.
    const std::size_t step = std::max<std::size_t>(1, records.size() / 100);
    for (std::size_t idx = 0; idx < records.size(); idx += step) {
        const CommitRecord& r = records[idx];
        auto txn = db_->BeginTransaction({.read_only = true, .as_of = r.commit_ts});
        ASSERT_TRUE(txn.ok()) << "AS OF " << r.commit_ts << ": " << txn.status().ToString();
        EXPECT_EQ(CheckSnapshot(**txn), "") << "AS OF " << r.commit_ts;
        auto from = (*txn)->Get(kAccounts, r.from);
        ASSERT_TRUE(from.ok());
        EXPECT_EQ(BalanceOf(*from), r.from_balance) << "AS OF " << r.commit_ts;
    }
    EXPECT_EQ(Count(kAccounts), static_cast<std::uint64_t>(kNumAccounts));
    PHENIX_EXPECT_OK(db_->Verify());
}

// The checker itself must be able to fail: break each invariant with an autocommit write.
TEST_F(Bank, CheckerDetectsBrokenInvariants) {
    {
        auto txn = BeginReadOnly();
        ASSERT_NE(txn, nullptr);
        EXPECT_EQ(CheckSnapshot(*txn), "") << "the initial state is consistent";
    }
    // Money from nowhere.
    PHENIX_ASSERT_OK(db_->PatchMetadata(kAccounts, AccountId(0), Balance(kInitialBalance + 1)));
    {
        auto txn = BeginReadOnly();
        ASSERT_NE(txn, nullptr);
        EXPECT_NE(CheckSnapshot(*txn).find("total"), std::string::npos);
    }
    // The total is right but the edges do not explain the balances.
    PHENIX_ASSERT_OK(db_->PatchMetadata(kAccounts, AccountId(1), Balance(kInitialBalance - 1)));
    {
        auto txn = BeginReadOnly();
        ASSERT_NE(txn, nullptr);
        EXPECT_NE(CheckSnapshot(*txn).find("edges say"), std::string::npos);
    }
    // An edge that records a payment that never happened.
    PHENIX_ASSERT_OK(db_->PatchMetadata(kAccounts, AccountId(0), Balance(kInitialBalance)));
    PHENIX_ASSERT_OK(db_->PatchMetadata(kAccounts, AccountId(1), Balance(kInitialBalance)));
    PHENIX_ASSERT_OK(db_->Upsert(
        kAccounts,
        Entity{.id = AccountId(2),
               .metadata = Balance(kInitialBalance),
               .edges = {Edge{.label = kPaid, .target_id = AccountId(3), .weight = 5}}}));
    {
        auto txn = BeginReadOnly();
        ASSERT_NE(txn, nullptr);
        EXPECT_NE(CheckSnapshot(*txn).find("edges say"), std::string::npos);
    }
}

TEST_F(Bank, ConcurrentIncrementsAreNeverLost) {
    constexpr int kThreads = 4;
    constexpr int kIncrementsPerThread = 200;
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("counter", {1, 0, 0, 0}, V(0))));
    std::atomic<int> num_aborts{0};
    std::latch start(kThreads);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&] {
                start.arrive_and_wait();
                for (int done = 0; done < kIncrementsPerThread;) {
                    if (std::chrono::steady_clock::now() > deadline) {
                        ADD_FAILURE() << "no progress: " << done << " increments";
                        return;
                    }
                    auto txn = db_->BeginTransaction();
                    if (!txn.ok()) {
                        ADD_FAILURE() << txn.status().ToString();
                        return;
                    }
                    auto got = (*txn)->Get("docs", "counter");
                    if (!got.ok()) {
                        ADD_FAILURE() << got.status().ToString();
                        return;
                    }
                    const auto value =
                        nlohmann::json::parse(got->metadata)["v"].get<std::int64_t>();
                    Status s = (*txn)->PatchMetadata("docs", "counter", V(value + 1));
                    if (!s.ok()) {
                        ADD_FAILURE() << s.ToString();
                        return;
                    }
                    auto committed = (*txn)->Commit();
                    if (committed.ok()) {
                        ++done;
                    } else if (committed.status().code() == StatusCode::kAborted) {
                        ++num_aborts;
                    } else {
                        ADD_FAILURE() << committed.status().ToString();
                        return;
                    }
                }
            });
        }
    }
    std::printf("[ counter  ] %d increments, %d aborts (retried)\n",
                kThreads * kIncrementsPerThread, num_aborts.load());
    RecordProperty("aborts", std::to_string(num_aborts.load()));
    EXPECT_EQ(testing::IntField(DbGet("docs", "counter"), "v"), kThreads * kIncrementsPerThread);
}

TEST_F(Bank, RacingTransactionalInsertsHaveOneWinnerPerId) {
    constexpr int kThreads = 4;
    constexpr int kIds = 50;
    std::vector<std::atomic<int>> winners(kIds);
    std::vector<std::atomic<int>> winner_thread(kIds);
    std::latch start(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                start.arrive_and_wait();
                for (int idx = 0; idx < kIds; ++idx) {
                    auto txn = db_->BeginTransaction();
                    if (!txn.ok()) {
                        ADD_FAILURE() << txn.status().ToString();
                        return;
                    }
                    Status s =
                        (*txn)->Insert("docs", Doc("id" + std::to_string(idx),
                                                   {1, 1, 1, static_cast<float>(t + 1)}, V(t)));
                    if (!s.ok()) {
                        EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
                        continue;  // the transaction is rolled back by its destructor
                    }
                    auto committed = (*txn)->Commit();
                    if (committed.ok()) {
                        ++winners[static_cast<std::size_t>(idx)];
                        winner_thread[static_cast<std::size_t>(idx)] = t;
                    } else {
                        EXPECT_EQ(committed.status().code(), StatusCode::kAborted)
                            << committed.status().ToString();
                    }
                }
            });
        }
    }
    for (int idx = 0; idx < kIds; ++idx) {
        const auto uidx = static_cast<std::size_t>(idx);
        EXPECT_EQ(winners[uidx].load(), 1) << "id" << idx;
        auto got = db_->Get("docs", "id" + std::to_string(idx));
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(testing::IntField(*got, "v"), winner_thread[uidx].load()) << "id" << idx;
    }
    EXPECT_EQ(Count(), static_cast<std::uint64_t>(kIds));
    PHENIX_EXPECT_OK(db_->Verify());
}

// Graph churn: writers upsert nodes with random edges to nodes that exist in their snapshot,
// delete nodes and re-insert them, all in transactions. Deletes remove edges both ways and an edge
// to a node conflicts with a concurrent delete of that node, so no snapshot may ever hold an edge
// to a missing node or an in-edge without its out-edge.
constexpr int kNumNodes = 12;
constexpr const char* kGraph = "graph";

std::string NodeId(int idx) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "n%02d", idx);
    return buf;
}

// Empty when every edge of the snapshot joins two live nodes and both edge indexes agree.
std::string CheckGraph(Transaction& txn) {
    auto page = txn.Scan(kGraph, ScanOptions{.limit = 1000, .include_edges = true});
    if (!page.ok()) {
        return "Scan: " + page.status().ToString();
    }
    std::map<std::string, std::vector<std::string>> in_from_scan;  // target -> sorted sources
    for (const Entity& e : page->entities) {
        in_from_scan[e.id];
    }
    for (const Entity& e : page->entities) {
        for (const Edge& edge : e.edges) {
            if (in_from_scan.count(edge.target_id) == 0) {
                return e.id + " -> " + edge.target_id + " points at a missing node";
            }
            in_from_scan[edge.target_id].push_back(e.id);
        }
    }
    for (auto& [id, sources] : in_from_scan) {
        std::sort(sources.begin(), sources.end());
        auto in = txn.ListEdges(kGraph, id, EdgeDirection::kIn);
        if (!in.ok()) {
            return "ListEdges(" + id + "): " + in.status().ToString();
        }
        std::vector<std::string> listed;
        for (const EdgeRecord& edge : *in) {
            listed.push_back(edge.source_id);
        }
        std::sort(listed.begin(), listed.end());
        if (listed != sources) {
            return "in-edges of " + id + " (" + std::to_string(listed.size()) +
                   ") disagree with the out-edges pointing at it (" +
                   std::to_string(sources.size()) + ")";
        }
    }
    return "";
}

class TxnGraphChurn : public TxnTest {
  protected:
    void SetUp() override {
        TxnTest::SetUp();
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = kGraph}));
        for (int idx = 0; idx < kNumNodes; ++idx) {
            PHENIX_ASSERT_OK(db_->Insert(kGraph, Entity{.id = NodeId(idx)}));
        }
    }
};

TEST_F(TxnGraphChurn, ConcurrentEdgeWritesAndDeletesNeverDangle) {
    constexpr int kNumChurners = 3;
    constexpr auto kChurnTime = std::chrono::milliseconds(1000);
    const unsigned seed = std::random_device{}();
    std::printf("[ seed     ] %u\n", seed);
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> num_commits{0};
    std::atomic<std::int64_t> num_aborts{0};
    std::atomic<std::int64_t> num_snapshots{0};

    auto churner = [&](int churner_idx) {
        std::mt19937_64 rng(seed + static_cast<unsigned>(churner_idx));
        std::uniform_int_distribution<int> pick(0, kNumNodes - 1);
        std::uniform_int_distribution<int> pick_op(0, 9);
        while (!stop) {
            auto txn = db_->BeginTransaction();
            if (!txn.ok()) {
                ADD_FAILURE() << txn.status().ToString();
                return;
            }
            Transaction& t = **txn;
            // One or two operations per transaction.
            const int num_ops = 1 + pick(rng) % 2;
            for (int op_idx = 0; op_idx < num_ops; ++op_idx) {
                const std::string id = NodeId(pick(rng));
                const bool exists = t.Get(kGraph, id).ok();
                const int op = pick_op(rng);
                Status s;
                if (exists && op < 3) {
                    s = t.Delete(kGraph, id);
                } else if (exists && op < 5) {
                    s = t.PatchMetadata(kGraph, id, R"({"touched":)" + std::to_string(op) + "}");
                } else {
                    // Insert or replace with edges to 0..3 nodes live in this snapshot.
                    Entity e{.id = id};
                    for (int edge_idx = pick(rng) % 4; edge_idx > 0; --edge_idx) {
                        const std::string target = NodeId(pick(rng));
                        if (t.Get(kGraph, target).ok() || target == id) {
                            e.edges.push_back(Edge{.label = "e", .target_id = target});
                        }
                    }
                    s = t.Upsert(kGraph, e);
                }
                if (!s.ok()) {
                    ADD_FAILURE() << "write in a transaction: " << s.ToString();
                    return;
                }
            }
            auto committed = t.Commit();
            if (committed.ok()) {
                ++num_commits;
            } else if (committed.status().code() == StatusCode::kAborted) {
                ++num_aborts;
            } else {
                ADD_FAILURE() << "Commit: " << committed.status().ToString();
                return;
            }
        }
    };
    auto checker = [&] {
        while (!stop) {
            auto txn = db_->BeginTransaction({.read_only = true});
            if (!txn.ok()) {
                ADD_FAILURE() << txn.status().ToString();
                return;
            }
            const std::string problem = CheckGraph(**txn);
            if (!problem.empty()) {
                ADD_FAILURE() << "snapshot at " << (*txn)->read_timestamp() << ": " << problem;
                return;
            }
            ++num_snapshots;
        }
    };
    {
        std::vector<std::jthread> threads;
        for (int idx = 0; idx < kNumChurners; ++idx) {
            threads.emplace_back(churner, idx);
        }
        threads.emplace_back(checker);
        std::this_thread::sleep_for(kChurnTime);  // the workload's duration
        stop = true;
    }
    std::printf("[ churn    ] %" PRId64 " commits, %" PRId64 " aborts, %" PRId64
                " snapshots checked\n",
                num_commits.load(), num_aborts.load(), num_snapshots.load());
    RecordProperty("commits", std::to_string(num_commits.load()));
    RecordProperty("aborts", std::to_string(num_aborts.load()));
    EXPECT_GT(num_commits.load(), 0);
    auto final_txn = BeginReadOnly();
    ASSERT_NE(final_txn, nullptr);
    EXPECT_EQ(CheckGraph(*final_txn), "");
    PHENIX_EXPECT_OK(db_->Verify());
}

}  // namespace
}  // namespace phenix
