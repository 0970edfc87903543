// SPDX-License-Identifier: Apache-2.0
// QuerySession's ExecutionObserver (tracing's hook, docs/observability.md): the stages of each
// statement in order with their outcome, and a SELECT's plan with its run figures, without the
// plan appearing in the result unless collect_plan asked for it.
#include <string>
#include <utility>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class Recorder final : public ExecutionObserver {
  public:
    void OnStage(std::string_view stage, std::int64_t start_unix_ns, std::int64_t end_unix_ns,
                 bool ok) override {
        EXPECT_LE(start_unix_ns, end_unix_ns) << stage;
        stages.emplace_back(std::string(stage) + (ok ? "" : "!"));
    }
    void OnPlan(const QueryPlan& plan, std::string_view plan_strategy) override {
        plans.push_back(plan);
        strategies.emplace_back(plan_strategy);
    }
    bool WantsPlan() override {
        ++plan_questions;
        return wants_plan;
    }
    std::vector<std::string> stages;
    std::vector<QueryPlan> plans;
    std::vector<std::string> strategies;
    bool wants_plan = true;
    int plan_questions = 0;
};

bool HasFigure(const QueryPlanNode& node, const std::string& name) {
    for (const auto& [figure, value] : node.figures) {
        if (figure == name) {
            return true;
        }
    }
    for (const QueryPlanNode& child : node.children) {
        if (HasFigure(child, name)) {
            return true;
        }
    }
    return false;
}

class ExecutionObserverTest : public DbTest {};

TEST_F(ExecutionObserverTest, StagesAndPlansAreReported) {
    WriteBatch batch;
    for (int i = 0; i < 20; ++i) {
        batch.Upsert("docs", Doc("e" + std::to_string(i), {1.0f + static_cast<float>(i), 1, 1, 1}));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    QuerySession session(*db_);
    Recorder recorder;
    session.set_execution_observer(&recorder);

    auto found = session.Execute("SELECT id FROM docs ORDER BY vector <=> [1, 1, 1, 1] LIMIT 3");
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->rows.size(), 3U);
    EXPECT_FALSE(found->plan.has_value());  // the observer's plan is not the result's
    EXPECT_EQ(recorder.stages, (std::vector<std::string>{"parse", "bind", "plan", "execute"}));
    ASSERT_EQ(recorder.plans.size(), 1U);
    EXPECT_TRUE(recorder.plans[0].analyzed);
    EXPECT_EQ(recorder.strategies[0], found->plan_strategy);
    EXPECT_TRUE(HasFigure(recorder.plans[0].root, "distance_computations"));

    recorder.stages.clear();
    EXPECT_FALSE(session.Execute("SELEC id FROM docs").ok());
    EXPECT_EQ(recorder.stages, (std::vector<std::string>{"parse!"}));

    recorder.stages.clear();
    PHENIX_ASSERT_OK(session.Execute("BEGIN").status());
    PHENIX_ASSERT_OK(session.Execute("INSERT INTO docs (id) VALUES ('x')").status());
    PHENIX_ASSERT_OK(session.Execute("COMMIT").status());
    EXPECT_EQ(recorder.stages, (std::vector<std::string>{"parse", "execute", "parse", "execute",
                                                         "parse", "commit", "execute"}));

    // Detached: nothing more is reported.
    session.set_execution_observer(nullptr);
    recorder.stages.clear();
    PHENIX_ASSERT_OK(session.Execute("SELECT id FROM docs LIMIT 1").status());
    EXPECT_TRUE(recorder.stages.empty());
}

// An observer that does not want a statement's plan (the slow-query log, for a fast statement)
// gets no OnPlan, and the plan tree is not built; asked again for the next statement, it can
// change its mind. collect_plan still returns the plan to the caller.
TEST_F(ExecutionObserverTest, PlanIsBuiltOnlyWhenWanted) {
    WriteBatch batch;
    batch.Upsert("docs", Doc("a"));
    PHENIX_ASSERT_OK(db_->Write(batch));
    QuerySession session(*db_);
    Recorder recorder;
    recorder.wants_plan = false;
    session.set_execution_observer(&recorder);
    auto ran = session.Execute("SELECT id FROM docs");
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    EXPECT_EQ(ran->rows.size(), 1U);
    EXPECT_EQ(recorder.plan_questions, 1);
    EXPECT_TRUE(recorder.plans.empty());
    EXPECT_FALSE(ran->plan.has_value());

    session.set_collect_plan(true);
    ran = session.Execute("SELECT id FROM docs");
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    ASSERT_TRUE(ran->plan.has_value());
    EXPECT_TRUE(ran->plan->analyzed);
    session.set_collect_plan(false);

    recorder.wants_plan = true;
    recorder.plans.clear();
    PHENIX_ASSERT_OK(session.Execute("SELECT id FROM docs").status());
    ASSERT_EQ(recorder.plans.size(), 1U);
    EXPECT_TRUE(recorder.plans[0].root.has_run);
    EXPECT_EQ(recorder.plans[0].root.actual_rows, 1U);
}

}  // namespace
}  // namespace phenix
