// SPDX-License-Identifier: Apache-2.0
// Differential test of MATCH chains (patterns of two or three edges): random patterns (per
// segment a direction, a label or none, a hop range, sometimes an edge variable; per node a
// collection or none, ids by = or IN, sometimes missing ones, a metadata condition) over a
// random two-collection graph with self-loops, cycles, cross-collection edges and NULL metadata
// run through PhenixQL and through a reference evaluator written here from the documented
// semantics: without an edge variable a segment binds each entity reachable by a walk in its hop
// range (the node itself when a walk returns to it); with one, each path (no repeated node,
// except that its last hop may return to its first) is a row. The reference walks the pattern
// left to right from every node of the first collection, so it checks any start the optimizer
// picks, and from both ends when several nodes have ids.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

struct RefEdge {
    std::string label;
    std::string target;  // "collection/id"
};

struct RefNode {
    std::string collection;
    std::string id;
    std::optional<int> n;  // metadata.n; nullopt: missing or null
    std::vector<RefEdge> out;
    std::vector<RefEdge> in;  // label and source
};

struct Segment {
    int direction = 0;  // 0 out, 1 in, 2 both
    std::string label;  // empty: any
    int max_hops = 1;
    bool edge_var = false;
};

struct NodeSpec {
    std::string collection;  // as written (empty: inherited)
    std::string resolved;
    std::vector<std::string> ids;  // empty: no id condition
    bool has_ids = false;
    std::optional<int> greater_than;
};

class MatchChainDifferentialTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(
            db_->CreateCollection({.ref = "people", .dimension = 4, .metric = Metric::kCosine}));
        session_ = std::make_unique<QuerySession>(*db_);
        std::mt19937 rng(11);
        auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
        for (const char* collection : {"docs", "people"}) {
            const int count = std::string(collection) == "docs" ? 10 : 8;
            for (int idx = 0; idx < count; ++idx) {
                RefNode node;
                node.collection = collection;
                node.id = std::string(1, collection[0]) + std::to_string(idx);
                if (pick(5) != 0) {
                    node.n = pick(10);
                }
                nodes_[Key(node.collection, node.id)] = node;
            }
        }
        std::vector<std::string> keys;
        for (const auto& [key, node] : nodes_) {
            keys.push_back(key);
        }
        for (const std::string& key : keys) {
            RefNode& node = nodes_[key];
            const int num_edges = 1 + pick(5);
            std::set<std::pair<std::string, std::string>> seen;
            for (int idx = 0; idx < num_edges; ++idx) {
                const std::string label = pick(2) == 0 ? "r" : "s";
                const std::string target =
                    pick(8) == 0
                        ? key
                        : keys[static_cast<std::size_t>(pick(static_cast<int>(keys.size())))];
                if (!seen.insert({label, target}).second) {
                    continue;
                }
                node.out.push_back({label, target});
                nodes_[target].in.push_back({label, key});
            }
        }
        // The entities first, then their edges (which may point at either collection).
        WriteBatch entities;
        WriteBatch edges;
        for (const auto& [key, node] : nodes_) {
            std::vector<Edge> out;
            for (const RefEdge& edge : node.out) {
                const RefNode& target = nodes_.at(edge.target);
                out.push_back(Edge{.label = edge.label,
                                   .target_id = target.id,
                                   .target_collection = target.collection});
            }
            const std::string metadata = node.n ? "{\"n\":" + std::to_string(*node.n) + "}"
                                         : node.id.back() % 2 == 0 ? "{\"n\":null}"
                                                                   : "{}";
            entities.Upsert(node.collection, Doc(node.id, {0.1f, 0.2f, 0.3f, 0.4f}, metadata));
            edges.ReplaceEdges(node.collection, node.id, std::move(out));
        }
        PHENIX_ASSERT_OK(db_->Write(entities));
        PHENIX_ASSERT_OK(db_->Write(edges));
    }

    static std::string Key(const std::string& collection, const std::string& id) {
        return collection + "/" + id;
    }

    // The entities (keys) reachable from `from` by a walk of 1..max_hops edges of `segment`,
    // followed left to right.
    std::set<std::string> Reach(const std::string& from, const Segment& segment) const {
        std::set<std::string> reached;
        std::set<std::string> frontier = {from};
        for (int hop = 0; hop < segment.max_hops; ++hop) {
            std::set<std::string> next;
            for (const std::string& key : frontier) {
                for (const auto& [target, label] : Neighbours(key, segment)) {
                    (void)label;
                    if (reached.insert(target).second) {
                        next.insert(target);
                    }
                }
            }
            frontier = std::move(next);
        }
        return reached;
    }

    // (neighbour, edge) pairs one hop along `segment` from `key`.
    std::vector<std::pair<std::string, std::string>> Neighbours(const std::string& key,
                                                                const Segment& segment) const {
        std::vector<std::pair<std::string, std::string>> out;
        const RefNode& node = nodes_.at(key);
        auto take = [&](const std::vector<RefEdge>& edges) {
            for (const RefEdge& edge : edges) {
                if (segment.label.empty() || edge.label == segment.label) {
                    out.emplace_back(edge.target, edge.label);
                }
            }
        };
        if (segment.direction != 1) {
            take(node.out);
        }
        if (segment.direction != 0) {
            take(node.in);
        }
        return out;
    }

    // The end of each path of 1..max_hops edges from `from` (intermediate nodes distinct and not
    // `from`; the last may be `from`), one entry per path.
    void Paths(const std::string& from, const std::string& at, const Segment& segment, int hops,
               std::vector<std::string>* visited, std::vector<std::string>* ends) const {
        for (const auto& [target, label] : Neighbours(at, segment)) {
            (void)label;
            if (std::find(visited->begin() + 1, visited->end(), target) != visited->end()) {
                continue;  // a repeated intermediate node
            }
            ends->push_back(target);
            if (target != from && hops + 1 < segment.max_hops) {
                visited->push_back(target);
                Paths(from, target, segment, hops + 1, visited, ends);
                visited->pop_back();
            }
        }
    }

    bool Accepts(const NodeSpec& spec, const std::string& key) const {
        const RefNode& node = nodes_.at(key);
        if (node.collection != spec.resolved) {
            return false;
        }
        if (spec.has_ids &&
            std::find(spec.ids.begin(), spec.ids.end(), node.id) == spec.ids.end()) {
            return false;
        }
        return !spec.greater_than || (node.n && *node.n > *spec.greater_than);
    }

    void Extend(const std::vector<NodeSpec>& specs, const std::vector<Segment>& segments,
                std::vector<std::string>* row, std::vector<std::string>* out) const {
        const std::size_t at = row->size() - 1;
        if (at == segments.size()) {
            std::string text;
            for (const std::string& key : *row) {
                text += (text.empty() ? "" : "\t") + nodes_.at(key).id;
            }
            out->push_back(text);
            return;
        }
        const Segment& segment = segments[at];
        std::vector<std::string> ends;
        if (segment.edge_var) {
            std::vector<std::string> visited = {row->back()};
            Paths(row->back(), row->back(), segment, 0, &visited, &ends);
        } else {
            const std::set<std::string> reached = Reach(row->back(), segment);
            ends.assign(reached.begin(), reached.end());
        }
        for (const std::string& end : ends) {
            if (!Accepts(specs[at + 1], end)) {
                continue;
            }
            row->push_back(end);
            Extend(specs, segments, row, out);
            row->pop_back();
        }
    }

    std::string RandomId(std::mt19937& rng, const std::string& collection) {
        const int count = collection == "docs" ? 10 : 8;
        const int idx = std::uniform_int_distribution<int>(0, count)(rng);  // count: missing
        return std::string(1, collection[0]) + std::to_string(idx);
    }

    void RunRandomPatterns(std::uint32_t seed, int count) {
        std::mt19937 rng(seed);
        auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
        int nonempty = 0;
        for (int query_idx = 0; query_idx < count; ++query_idx) {
            const int num_segments = 2 + pick(2);
            std::vector<NodeSpec> specs(static_cast<std::size_t>(num_segments + 1));
            std::vector<Segment> segments(static_cast<std::size_t>(num_segments));
            std::string collection;
            for (std::size_t idx = 0; idx < specs.size(); ++idx) {
                if (idx == 0 || pick(4) != 0) {
                    specs[idx].collection = pick(2) == 0 ? "docs" : "people";
                    collection = specs[idx].collection;
                }
                specs[idx].resolved = collection;
                if (pick(5) == 0) {
                    specs[idx].greater_than = pick(6);
                }
            }
            // One or two nodes with ids (an IN list sometimes).
            const int num_with_ids = 1 + pick(2);
            for (int idx = 0; idx < num_with_ids; ++idx) {
                NodeSpec& spec = specs[static_cast<std::size_t>(pick(num_segments + 1))];
                spec.has_ids = true;
                spec.ids = {RandomId(rng, spec.resolved)};
                if (pick(3) == 0) {
                    spec.ids.push_back(RandomId(rng, spec.resolved));
                }
            }
            for (Segment& segment : segments) {
                segment.edge_var = pick(4) == 0;
                segment.direction = pick(segment.edge_var ? 2 : 3);
                segment.label = pick(2) == 0 ? "" : pick(2) == 0 ? "r" : "s";
                segment.max_hops = 1 + pick(2);
            }
            // The statement.
            std::string pattern;
            std::string select;
            std::string where;
            for (std::size_t idx = 0; idx < specs.size(); ++idx) {
                const std::string var = "n" + std::to_string(idx);
                if (idx > 0) {
                    const Segment& segment = segments[idx - 1];
                    std::string edge = "[";
                    if (segment.edge_var) {
                        edge += "e" + std::to_string(idx);
                    }
                    if (!segment.label.empty()) {
                        edge += ":" + segment.label;
                    }
                    if (segment.max_hops > 1) {
                        edge += "*1.." + std::to_string(segment.max_hops);
                    }
                    edge += "]";
                    pattern += segment.direction == 0   ? "-" + edge + "->"
                               : segment.direction == 1 ? "<-" + edge + "-"
                                                        : "-" + edge + "-";
                }
                const NodeSpec& spec = specs[idx];
                pattern += "(" + var + (spec.collection.empty() ? "" : ":" + spec.collection) + ")";
                select += (idx == 0 ? "" : ", ") + var + ".id";
                auto add = [&](const std::string& term) {
                    where += (where.empty() ? " WHERE " : " AND ") + term;
                };
                if (spec.has_ids) {
                    if (spec.ids.size() == 1) {
                        add(var + ".id = '" + spec.ids[0] + "'");
                    } else {
                        add(var + ".id IN ('" + spec.ids[0] + "', '" + spec.ids[1] + "')");
                    }
                }
                if (spec.greater_than) {
                    add(var + ".metadata.n > " + std::to_string(*spec.greater_than));
                }
            }
            std::vector<std::string> expected;
            for (const auto& [key, node] : nodes_) {
                if (!Accepts(specs[0], key)) {
                    continue;
                }
                std::vector<std::string> row = {key};
                Extend(specs, segments, &row, &expected);
            }
            std::sort(expected.begin(), expected.end());
            const std::string text = "SELECT " + select + " FROM MATCH " + pattern + where;
            Result<QueryResult> result = session_->Execute(text);
            ASSERT_TRUE(result.ok()) << text << ": " << result.status().ToString();
            std::vector<std::string> actual;
            for (const std::vector<QueryValue>& row : result->rows) {
                std::string line;
                for (const QueryValue& value : row) {
                    line += (line.empty() ? "" : "\t") + value.ToText();
                }
                actual.push_back(line);
            }
            std::sort(actual.begin(), actual.end());
            auto join = [](const std::vector<std::string>& lines) {
                std::string all;
                for (const std::string& line : lines) {
                    all += line + "\n";
                }
                return all;
            };
            ASSERT_EQ(join(actual), join(expected)) << text;
            // count(*) over the same pattern counts the same rows.
            const std::string count_text = "SELECT count(*) FROM MATCH " + pattern + where;
            Result<QueryResult> counted = session_->Execute(count_text);
            ASSERT_TRUE(counted.ok()) << count_text << ": " << counted.status().ToString();
            ASSERT_EQ(counted->rows.at(0).at(0).int_value,
                      static_cast<std::int64_t>(expected.size()))
                << count_text;
            nonempty += expected.empty() ? 0 : 1;
        }
        // The generator must produce patterns with answers, or it checks little.
        EXPECT_GT(nonempty, count / 3) << "of " << count;
    }

    std::map<std::string, RefNode> nodes_;
    std::unique_ptr<QuerySession> session_;
};

TEST_F(MatchChainDifferentialTest, RandomChainsAgreeWithTheReference) {
    RunRandomPatterns(1, 80);
}

}  // namespace
}  // namespace phenix
