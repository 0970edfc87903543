// SPDX-License-Identifier: Apache-2.0
// Differential test: random SELECTs (WHERE with AND/OR/NOT, comparisons, IN, IS NULL over
// ints, floats mixed with ints, strings and missing fields, and arithmetic over fields, which
// is evaluated per row; DISTINCT; ORDER BY with ASC/DESC; LIMIT/OFFSET; GROUP BY with
// count/sum/min/max/avg, aggregates of and arithmetic over aggregates, and HAVING) run through
// PhenixQL and through a small reference evaluator written here from the documented semantics (SQL
// three-valued logic, numbers compared by value, NULL last ascending). Each query runs without and
// with metadata indexes on the fields, so the index plans, the scan plans, the top-k, the stopped
// id-ordered scan and the full sort are all compared with the same reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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

// A field's value: nullopt is missing or null (both are SQL NULL).
struct Cell {
    enum class Kind { kNull, kNumber, kString } kind = Kind::kNull;
    double number = 0;
    bool is_int = false;
    std::string text;
};

struct RefRow {
    std::string id;
    std::map<std::string, Cell> fields;  // a: int, b: int or float, c: string
    [[nodiscard]] Cell Get(const std::string& name) const {
        auto it = fields.find(name);
        return it == fields.end() ? Cell{} : it->second;
    }
};

// NULL sorts after everything (ascending), numbers by value, strings by bytes.
int CompareCells(const Cell& x, const Cell& y) {
    auto rank = [](const Cell& c) {
        return c.kind == Cell::Kind::kNumber ? 0 : c.kind == Cell::Kind::kString ? 1 : 2;
    };
    if (rank(x) != rank(y)) {
        return rank(x) < rank(y) ? -1 : 1;
    }
    if (x.kind == Cell::Kind::kNumber) {
        return x.number < y.number ? -1 : x.number > y.number ? 1 : 0;
    }
    if (x.kind == Cell::Kind::kString) {
        return x.text < y.text ? -1 : x.text > y.text ? 1 : 0;
    }
    return 0;
}

Cell FromValue(const QueryValue& value) {
    Cell cell;
    switch (value.type) {
        case QueryValue::Type::kInt:
            cell.kind = Cell::Kind::kNumber;
            cell.number = static_cast<double>(value.int_value);
            cell.is_int = true;
            break;
        case QueryValue::Type::kFloat:
            cell.kind = Cell::Kind::kNumber;
            cell.number = value.float_value;
            break;
        case QueryValue::Type::kString:
            cell.kind = Cell::Kind::kString;
            cell.text = value.text;
            break;
        default:
            break;
    }
    return cell;
}

std::string CellText(const Cell& cell) {
    switch (cell.kind) {
        case Cell::Kind::kNumber: {
            char buffer[64];
            std::snprintf(buffer, sizeof buffer, "%.9g", cell.number);
            return buffer;
        }
        case Cell::Kind::kString:
            return "'" + cell.text + "'";
        case Cell::Kind::kNull:
            return "NULL";
    }
    return "?";
}

using Truth = std::optional<bool>;  // nullopt: unknown
using Predicate = std::function<Truth(const RefRow&)>;

struct Condition {
    std::string text;
    Predicate eval;
};

class Generator {
  public:
    explicit Generator(std::uint32_t seed) : rng_(seed) {}

    int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    // A constant of the field's kind.
    Cell Constant(const std::string& field) {
        Cell cell;
        if (field == "c") {
            cell.kind = Cell::Kind::kString;
            cell.text = std::string(1, static_cast<char>('p' + Int(0, 3)));
        } else {
            cell.kind = Cell::Kind::kNumber;
            cell.number = Int(0, 9);
            cell.is_int = true;
            if (field == "b" && Chance(0.3)) {
                cell.number += 0.5;
                cell.is_int = false;
            }
        }
        return cell;
    }

    Condition Comparison() {
        static const char* kFields[] = {"a", "b", "c"};
        const std::string field = kFields[Int(0, 2)];
        const std::string path = "metadata." + field;
        const int shape = Int(0, 11);
        if (shape >= 10) {
            return Arithmetic(shape == 10);
        }
        if (shape == 0) {
            const bool negated = Chance(0.5);
            return {path + (negated ? " IS NOT NULL" : " IS NULL"),
                    [field, negated](const RefRow& row) -> Truth {
                        return (row.Get(field).kind == Cell::Kind::kNull) != negated;
                    }};
        }
        if (shape == 1) {
            const bool negated = Chance(0.4);
            std::vector<Cell> values;
            std::string text = path + (negated ? " NOT IN (" : " IN (");
            for (int idx = Int(1, 3); idx > 0; --idx) {
                values.push_back(Constant(field));
                text += (values.size() > 1 ? ", " : "") + CellText(values.back());
            }
            return {text + ")", [field, values, negated](const RefRow& row) -> Truth {
                        const Cell value = row.Get(field);
                        if (value.kind == Cell::Kind::kNull) {
                            return std::nullopt;
                        }
                        bool found = false;
                        for (const Cell& candidate : values) {
                            found = found || CompareCells(value, candidate) == 0;
                        }
                        return found != negated;
                    }};
        }
        static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
        const int op = Int(0, 5);
        const Cell constant = Constant(field);
        return {path + " " + kOps[op] + " " + CellText(constant),
                [field, op, constant](const RefRow& row) -> Truth {
                    const Cell value = row.Get(field);
                    if (value.kind == Cell::Kind::kNull) {
                        return std::nullopt;
                    }
                    const int cmp = CompareCells(value, constant);
                    switch (op) {
                        case 0:
                            return cmp == 0;
                        case 1:
                            return cmp != 0;
                        case 2:
                            return cmp < 0;
                        case 3:
                            return cmp <= 0;
                        case 4:
                            return cmp > 0;
                        default:
                            return cmp >= 0;
                    }
                }};
    }

    // Issue 13: arithmetic over the numeric fields, evaluated per row (a residual WHERE term):
    // `a + b op K` (int + int or float) or `a * 2 - a % 3 op K` (integer arithmetic). NULL in
    // any operand makes the comparison UNKNOWN.
    Condition Arithmetic(bool sum_of_fields) {
        static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
        const int op = Int(0, 5);
        const int constant = Int(0, 18);
        const std::string text =
            (sum_of_fields ? "metadata.a + metadata.b " : "metadata.a * 2 - metadata.a % 3 ") +
            std::string(kOps[op]) + " " + std::to_string(constant);
        return {text, [sum_of_fields, op, constant](const RefRow& row) -> Truth {
                    const Cell a = row.Get("a");
                    const Cell b = row.Get("b");
                    if (a.kind != Cell::Kind::kNumber ||
                        (sum_of_fields && b.kind != Cell::Kind::kNumber)) {
                        return std::nullopt;
                    }
                    const auto whole = static_cast<std::int64_t>(a.number);
                    const double value = sum_of_fields ? a.number + b.number
                                                       : static_cast<double>(whole * 2 - whole % 3);
                    const double k = constant;
                    switch (op) {
                        case 0:
                            return value == k;
                        case 1:
                            return value != k;
                        case 2:
                            return value < k;
                        case 3:
                            return value <= k;
                        case 4:
                            return value > k;
                        default:
                            return value >= k;
                    }
                }};
    }

    Condition Where(int depth) {
        const int shape = depth <= 0 ? 0 : Int(0, 4);
        if (shape <= 1) {
            return Comparison();
        }
        if (shape == 2) {
            Condition inner = Where(depth - 1);
            return {"NOT (" + inner.text + ")", [inner](const RefRow& row) -> Truth {
                        Truth value = inner.eval(row);
                        return value ? Truth(!*value) : std::nullopt;
                    }};
        }
        const bool is_and = shape == 3;
        Condition left = Where(depth - 1);
        Condition right = Where(depth - 1);
        return {"(" + left.text + (is_and ? " AND " : " OR ") + right.text + ")",
                [left, right, is_and](const RefRow& row) -> Truth {
                    const Truth a = left.eval(row);
                    const Truth b = right.eval(row);
                    if ((a && *a != is_and) || (b && *b != is_and)) {
                        return !is_and;
                    }
                    return a && b ? Truth(is_and) : std::nullopt;
                }};
    }

  private:
    std::mt19937 rng_;
};

using Table = std::vector<std::vector<Cell>>;

bool SameCell(const Cell& x, const Cell& y) {
    if (x.kind != y.kind) {
        return false;
    }
    if (x.kind == Cell::Kind::kNumber) {
        return std::fabs(x.number - y.number) <= 1e-9 * std::max(1.0, std::fabs(x.number));
    }
    return x.text == y.text;
}

std::string TableText(const Table& table) {
    std::string out;
    for (const auto& row : table) {
        for (const Cell& cell : row) {
            out += CellText(cell) + "\t";
        }
        out += "\n";
    }
    return out;
}

bool SameTable(const Table& x, const Table& y) {
    if (x.size() != y.size()) {
        return false;
    }
    for (std::size_t r = 0; r < x.size(); ++r) {
        if (x[r].size() != y[r].size()) {
            return false;
        }
        for (std::size_t c = 0; c < x[r].size(); ++c) {
            if (!SameCell(x[r][c], y[r][c])) {
                return false;
            }
        }
    }
    return true;
}

void SortRows(Table* table) {
    std::sort(table->begin(), table->end(), [](const auto& x, const auto& y) {
        for (std::size_t c = 0; c < x.size(); ++c) {
            if (int cmp = CompareCells(x[c], y[c]); cmp != 0) {
                return cmp < 0;
            }
        }
        return false;
    });
}

// The selected expression column, and a column's SQL.
constexpr const char* kExpr = "a*2+b";
std::string ColumnSql(const std::string& column) {
    if (column == kExpr) {
        return "metadata.a * 2 + metadata.b";
    }
    return column == "id" ? "id" : "metadata." + column;
}

class SelectDifferentialTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        session_ = std::make_unique<QuerySession>(*db_);
        std::mt19937 rng(7);
        auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
        WriteBatch batch;
        for (int i = 0; i < 240; ++i) {
            RefRow row;
            char id[16];
            std::snprintf(id, sizeof id, "r%03d", (i * 97) % 240);  // rows not in id order
            row.id = id;
            std::string metadata = "{";
            auto add = [&](const std::string& name, const Cell& cell, const std::string& json) {
                metadata += (metadata.size() > 1 ? "," : "") + ("\"" + name + "\":" + json);
                if (cell.kind != Cell::Kind::kNull) {
                    row.fields[name] = cell;
                }
            };
            if (pick(6) != 0) {  // a: an int 0..9, else missing or null
                Cell cell{Cell::Kind::kNumber, static_cast<double>(pick(10)), true, {}};
                add("a", cell, std::to_string(static_cast<int>(cell.number)));
            } else if (pick(2) == 0) {
                add("a", Cell{}, "null");
            }
            if (pick(8) != 0) {  // b: 2 and 2.0 both occur; halves too
                const int whole = pick(10);
                const int form = pick(3);
                Cell cell{Cell::Kind::kNumber, whole + (form == 2 ? 0.5 : 0.0), form == 0, {}};
                add("b", cell,
                    form == 0 ? std::to_string(whole)
                              : std::to_string(whole) + (form == 1 ? ".0" : ".5"));
            }
            if (pick(5) != 0) {  // c: a string p..s
                Cell cell{Cell::Kind::kString, 0, false,
                          std::string(1, static_cast<char>('p' + pick(4)))};
                add("c", cell, "\"" + cell.text + "\"");
            }
            metadata += "}";
            batch.Upsert("docs",
                         Doc(row.id, {1.0f + static_cast<float>(pick(5)), 1, 1, 1}, metadata));
            rows_.push_back(std::move(row));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    Table Run(const std::string& text, bool* ok) {
        Result<QueryResult> result = session_->Execute(text);
        *ok = result.ok();
        EXPECT_TRUE(result.ok()) << text << ": " << result.status().ToString();
        Table table;
        if (result.ok()) {
            for (const auto& row : result->rows) {
                std::vector<Cell> cells;
                for (const QueryValue& value : row) {
                    cells.push_back(FromValue(value));
                }
                table.push_back(std::move(cells));
            }
        }
        return table;
    }

    // One random query and its reference answer; *ordered: the answer's order is defined.
    std::string MakeQuery(Generator& gen, Table* expected, bool* ordered) {
        const bool has_where = gen.Chance(0.85);
        Condition where = has_where ? gen.Where(gen.Int(0, 3)) : Condition{};
        std::vector<const RefRow*> matching;
        for (const RefRow& row : rows_) {
            if (!has_where || where.eval(row) == true) {
                matching.push_back(&row);
            }
        }
        const std::string where_text = has_where ? " WHERE " + where.text : "";
        static const char* kFields[] = {"a", "b", "c"};
        if (gen.Chance(0.3)) {
            return MakeAggregate(gen, kFields[gen.Int(0, 2)], where_text, matching, expected,
                                 ordered);
        }
        // Plain rows: id and some fields; ORDER BY random keys then id (a total order).
        std::vector<std::string> columns = {"id"};
        for (const char* field : kFields) {
            if (gen.Chance(0.5)) {
                columns.push_back(field);
            }
        }
        if (gen.Chance(0.3)) {
            columns.push_back(kExpr);  // metadata.a * 2 + metadata.b, a selected expression
        }
        const bool distinct = gen.Chance(0.25) && columns.size() > 1;
        if (distinct) {
            columns.erase(columns.begin());  // DISTINCT over fields only
        }
        std::vector<std::pair<std::string, bool>> keys;  // field ("id" too), descending
        for (const std::string& column : columns) {
            if (gen.Chance(0.5) || distinct) {
                keys.emplace_back(column, gen.Chance(0.4));
            }
        }
        std::shuffle(keys.begin(), keys.end(), std::mt19937(static_cast<std::uint32_t>(gen.Int(0, 1000))));
        const bool has_id = std::any_of(keys.begin(), keys.end(),
                                        [](const auto& key) { return key.first == "id"; });
        if (!distinct && !has_id) {
            keys.emplace_back("id", gen.Chance(0.3));  // the last key: a total order
        }
        auto cell = [](const RefRow& row, const std::string& column) {
            if (column == kExpr) {
                const Cell a = row.Get("a");
                const Cell b = row.Get("b");
                if (a.kind != Cell::Kind::kNumber || b.kind != Cell::Kind::kNumber) {
                    return Cell{};  // NULL in, NULL out
                }
                return Cell{Cell::Kind::kNumber, a.number * 2 + b.number, b.is_int, {}};
            }
            return column == "id" ? Cell{Cell::Kind::kString, 0, false, row.id} : row.Get(column);
        };
        Table all;
        for (const RefRow* row : matching) {
            std::vector<Cell> out;
            for (const std::string& column : columns) {
                out.push_back(cell(*row, column));
            }
            all.push_back(std::move(out));
        }
        // Keys not selected are looked up from the rows: sort (row, selected) pairs.
        std::vector<std::size_t> order(all.size());
        for (std::size_t idx = 0; idx < order.size(); ++idx) {
            order[idx] = idx;
        }
        std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            for (const auto& [key, descending] : keys) {
                const int cmp = CompareCells(cell(*matching[x], key), cell(*matching[y], key));
                if (cmp != 0) {
                    return descending ? cmp > 0 : cmp < 0;
                }
            }
            return false;
        });
        Table sorted;
        std::set<std::string> seen;
        for (std::size_t idx : order) {
            if (distinct) {
                std::string key;
                for (const Cell& c : all[idx]) {
                    key += CellText(c) + "\x1f";
                }
                if (!seen.insert(key).second) {
                    continue;
                }
            }
            sorted.push_back(all[idx]);
        }
        std::string text = std::string("SELECT ") + (distinct ? "DISTINCT " : "");
        for (std::size_t idx = 0; idx < columns.size(); ++idx) {
            text += (idx ? ", " : "") + ColumnSql(columns[idx]);
        }
        text += " FROM docs" + where_text;
        for (std::size_t idx = 0; idx < keys.size(); ++idx) {
            text += (idx ? ", " : " ORDER BY ") + ColumnSql(keys[idx].first) +
                    (keys[idx].second ? " DESC" : "");
        }
        std::size_t begin = 0;
        std::size_t end = sorted.size();
        if (gen.Chance(0.6)) {
            const std::size_t limit = static_cast<std::size_t>(gen.Int(0, 30));
            text += " LIMIT " + std::to_string(limit);
            std::size_t offset = 0;
            if (gen.Chance(0.4)) {
                offset = static_cast<std::size_t>(gen.Int(0, 40));
                text += " OFFSET " + std::to_string(offset);
            }
            begin = std::min(offset, sorted.size());
            end = std::min(sorted.size(), begin + limit);
        }
        *expected = Table(sorted.begin() + static_cast<std::ptrdiff_t>(begin),
                          sorted.begin() + static_cast<std::ptrdiff_t>(end));
        // With DISTINCT, the ORDER BY covers every selected column: a total order too.
        *ordered = true;
        return text;
    }

    std::string MakeAggregate(Generator& gen, const std::string& key, const std::string& where_text,
                              const std::vector<const RefRow*>& matching, Table* expected,
                              bool* ordered) {
        struct Acc {
            Cell key;
            std::int64_t count = 0, count_a = 0;
            double sum_a = 0;
            std::optional<Cell> min_b, max_c;
            double sum_b = 0;
            std::int64_t count_b = 0;
        };
        std::vector<Acc> groups;
        for (const RefRow* row : matching) {
            const Cell value = row->Get(key);
            auto it = std::find_if(groups.begin(), groups.end(), [&](const Acc& acc) {
                return CompareCells(acc.key, value) == 0;
            });
            if (it == groups.end()) {
                groups.push_back(Acc{value});
                it = groups.end() - 1;
            }
            ++it->count;
            if (Cell a = row->Get("a"); a.kind == Cell::Kind::kNumber) {
                ++it->count_a;
                it->sum_a += a.number;
            }
            if (Cell b = row->Get("b"); b.kind == Cell::Kind::kNumber) {
                ++it->count_b;
                it->sum_b += b.number;
                if (!it->min_b || CompareCells(b, *it->min_b) < 0) {
                    it->min_b = b;
                }
            }
            if (Cell c = row->Get("c"); c.kind == Cell::Kind::kString) {
                if (!it->max_c || CompareCells(c, *it->max_c) > 0) {
                    it->max_c = c;
                }
            }
        }
        const std::int64_t having = gen.Chance(0.5) ? gen.Int(1, 25) : -1;
        Table table;
        for (const Acc& acc : groups) {
            if (having >= 0 && !(acc.count > having)) {
                continue;
            }
            auto number = [](double x) { return Cell{Cell::Kind::kNumber, x, false, {}}; };
            table.push_back(
                {acc.key, number(static_cast<double>(acc.count)),
                 acc.count_a ? number(acc.sum_a) : Cell{}, acc.min_b.value_or(Cell{}),
                 acc.max_c.value_or(Cell{}),
                 acc.count_b ? number(acc.sum_b / static_cast<double>(acc.count_b)) : Cell{},
                 acc.count_a ? number(acc.sum_a * 2) : Cell{},
                 number(static_cast<double>(acc.count * 10 + 1))});
        }
        SortRows(&table);
        *expected = std::move(table);
        *ordered = false;
        return "SELECT metadata." + key +
               ", count(*), sum(metadata.a), min(metadata.b), "
               "max(metadata.c), avg(metadata.b), sum(metadata.a * 2), count(*) * 10 + 1 FROM "
               "docs" +
               where_text + " GROUP BY metadata." + key +
               (having >= 0 ? " HAVING count(*) > " + std::to_string(having) : "");
    }

    void RunRandomQueries(std::uint32_t seed, int count) {
        Generator gen(seed);
        int nonempty = 0;
        for (int idx = 0; idx < count; ++idx) {
            Table expected;
            bool ordered = true;
            const std::string text = MakeQuery(gen, &expected, &ordered);
            bool ok = false;
            Table actual = Run(text, &ok);
            if (!ok) {
                continue;
            }
            if (!ordered) {
                SortRows(&actual);
            }
            nonempty += expected.empty() ? 0 : 1;
            EXPECT_TRUE(SameTable(actual, expected)) << text << "\nexpected:\n"
                                                     << TableText(expected) << "actual:\n"
                                                     << TableText(actual);
            if (HasFailure()) {
                return;  // one mismatch is enough to read
            }
        }
        // The generator must produce queries with answers, or it checks nothing.
        EXPECT_GT(nonempty, count / 2);
    }

    std::vector<RefRow> rows_;
    std::unique_ptr<QuerySession> session_;
};

TEST_F(SelectDifferentialTest, RandomQueriesAgreeWithTheReference) {
    RunRandomQueries(1, 300);
}

TEST_F(SelectDifferentialTest, RandomQueriesAgreeWithTheReferenceOverIndexes) {
    for (const char* field : {"a", "b", "c"}) {
        PHENIX_ASSERT_OK(db_->CreateIndex("docs", field));
    }
    RunRandomQueries(2, 300);
}

}  // namespace
}  // namespace phenix
