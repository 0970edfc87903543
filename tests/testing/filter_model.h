// SPDX-License-Identifier: Apache-2.0
//
// A tiny reference model of metadata filters and PhenixQL conditions for differential tests
// (issue 13): random metadata values (missing, null, booleans, ints, floats, strings, arrays
// with nulls, objects), random filters in the JSON filter language with their two-valued
// meaning (docs/metadata-indexes.md), and random WHERE conditions with SQL's three-valued
// meaning (docs/query-language.md, "Conditions"). Written from the documentation, not from the
// engine, so that the engine's row-by-row and index paths can be checked against it.
//
// Timestamps are left out (strings here are never RFC 3339), and strings are ASCII.
// Thread-compatible; a model is a plain value.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace phenix::testing {

struct ModelValue {
    enum class Type { kMissing, kNull, kBool, kNumber, kString, kArray, kObject };
    Type type = Type::kMissing;
    bool boolean = false;
    double number = 0;
    bool is_float = false;  // printed with a fraction: 2.0
    std::string text;
    std::vector<ModelValue> elements;  // kArray: scalars (null included)

    // The JSON text, or "" for kMissing.
    [[nodiscard]] std::string Json() const {
        switch (type) {
            case Type::kMissing:
                return "";
            case Type::kNull:
                return "null";
            case Type::kBool:
                return boolean ? "true" : "false";
            case Type::kNumber: {
                if (is_float) {
                    std::string out = std::to_string(number);
                    return out;
                }
                return std::to_string(static_cast<std::int64_t>(number));
            }
            case Type::kString:
                return "\"" + text + "\"";
            case Type::kArray: {
                std::string out = "[";
                for (std::size_t idx = 0; idx < elements.size(); ++idx) {
                    out += (idx > 0 ? "," : "") + elements[idx].Json();
                }
                return out + "]";
            }
            case Type::kObject:
                return R"({"k":1})";
        }
        return "";
    }

    // The scalars a path yields (an array's elements, a scalar itself, nothing for an object).
    [[nodiscard]] std::vector<ModelValue> Elements() const {
        if (type == Type::kArray) {
            return elements;
        }
        if (type == Type::kMissing || type == Type::kObject) {
            return {};
        }
        return {*this};
    }
};

// The bracket of a scalar: values compare by order only within one.
inline int Bracket(const ModelValue& v) {
    return static_cast<int>(v.type);
}

// <0, 0, >0 for two scalars of one bracket.
inline int CompareSame(const ModelValue& a, const ModelValue& b) {
    switch (a.type) {
        case ModelValue::Type::kBool:
            return static_cast<int>(a.boolean) - static_cast<int>(b.boolean);
        case ModelValue::Type::kNumber:
            return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
        case ModelValue::Type::kString:
            return a.text.compare(b.text);
        default:
            return 0;  // null == null
    }
}

inline bool LikeModel(const std::string& text, const std::string& pattern) {
    std::string re;
    for (std::size_t idx = 0; idx < pattern.size(); ++idx) {
        const char c = pattern[idx];
        if (c == '\\' && idx + 1 < pattern.size()) {
            re += '\\';
            re += pattern[++idx];
        } else if (c == '%') {
            re += ".*";
        } else if (c == '_') {
            re += ".";
        } else if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            re += c;
        } else {
            re += '\\';
            re += c;
        }
    }
    return std::regex_match(text, std::regex(re));
}

// A metadata object with fields x and y, each possibly missing.
struct ModelRow {
    std::string id;
    ModelValue x;
    ModelValue y;

    [[nodiscard]] const ModelValue& Field(const std::string& name) const {
        return name == "x" ? x : y;
    }
    [[nodiscard]] std::string Json() const {
        std::string out = "{";
        if (x.type != ModelValue::Type::kMissing) {
            out += "\"x\":" + x.Json();
        }
        if (y.type != ModelValue::Type::kMissing) {
            out += std::string(out.size() > 1 ? "," : "") + "\"y\":" + y.Json();
        }
        return out + "}";
    }
};

class ModelGen {
  public:
    explicit ModelGen(std::uint32_t seed) : rng_(seed) {}

    int Uniform(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }

    // A scalar literal (never missing); null only when `allow_null`.
    ModelValue Scalar(bool allow_null) {
        ModelValue v;
        switch (Uniform(allow_null ? 9 : 8)) {
            case 0:
                v.type = ModelValue::Type::kBool;
                v.boolean = Uniform(2) == 1;
                break;
            case 1:
            case 2:
            case 3:
                v.type = ModelValue::Type::kNumber;
                v.number = Uniform(4);  // 0..3, as an int or a float
                v.is_float = Uniform(2) == 1;
                break;
            case 4:
                v.type = ModelValue::Type::kNumber;
                v.number = 1.5;
                v.is_float = true;
                break;
            case 5:
            case 6:
            case 7: {
                static const char* kStrings[] = {"a", "ab", "b", "ba", "a%", ""};
                v.type = ModelValue::Type::kString;
                v.text = kStrings[Uniform(6)];
                break;
            }
            default:
                v.type = ModelValue::Type::kNull;
                break;
        }
        return v;
    }

    ModelValue Value() {
        ModelValue v;
        switch (Uniform(10)) {
            case 0:
                v.type = ModelValue::Type::kMissing;
                break;
            case 1:
                v.type = ModelValue::Type::kNull;
                break;
            case 2:
            case 3: {
                v.type = ModelValue::Type::kArray;
                const int size = Uniform(4);
                for (int idx = 0; idx < size; ++idx) {
                    v.elements.push_back(Scalar(Uniform(4) == 0));
                }
                break;
            }
            case 4:
                v.type = Uniform(3) == 0 ? ModelValue::Type::kObject : ModelValue::Type::kMissing;
                break;
            default:
                v = Scalar(false);
                break;
        }
        return v;
    }

    std::vector<ModelRow> Rows(int n) {
        std::vector<ModelRow> rows;
        for (int idx = 0; idx < n; ++idx) {
            char id[16];
            std::snprintf(id, sizeof(id), "r%03d", idx);
            rows.push_back(ModelRow{id, Value(), Value()});
        }
        return rows;
    }

    std::string Field() { return Uniform(2) == 0 ? "x" : "y"; }

    std::string Pattern() {
        static const char* kPatterns[] = {"a%", "%a", "_", "%", "a_", "a\\%", "%b%", "b"};
        return kPatterns[Uniform(8)];
    }

  private:
    std::mt19937 rng_;
};

// ---- the JSON filter language: two-valued ----

struct FilterCase {
    std::string json;
    std::vector<bool> matches;  // per row
};

class FilterModel {
  public:
    FilterModel(ModelGen& gen, const std::vector<ModelRow>& rows) : gen_(gen), rows_(rows) {}

    // A random filter of depth at most `depth`, with its expected result per row.
    FilterCase Random(int depth) {
        FilterCase out;
        if (depth > 0 && gen_.Uniform(3) == 0) {
            const int kind = gen_.Uniform(3);
            if (kind == 2) {
                FilterCase inner = Random(depth - 1);
                out.json = R"({"$not":)" + inner.json + "}";
                for (bool m : inner.matches) {
                    out.matches.push_back(!m);
                }
                return out;
            }
            FilterCase a = Random(depth - 1);
            FilterCase b = Random(depth - 1);
            out.json = std::string(kind == 0 ? R"({"$and":[)" : R"({"$or":[)") + a.json + "," +
                       b.json + "]}";
            for (std::size_t idx = 0; idx < rows_.size(); ++idx) {
                out.matches.push_back(kind == 0 ? a.matches[idx] && b.matches[idx]
                                                : a.matches[idx] || b.matches[idx]);
            }
            return out;
        }
        const std::string field = gen_.Field();
        static const char* kOps[] = {"$eq", "$ne",  "$lt",     "$lte",  "$gt", "$gte",
                                     "$in", "$nin", "$exists", "$like", "$not"};
        const std::string op = kOps[gen_.Uniform(11)];
        std::string condition;
        std::vector<ModelValue> literals;
        std::string pattern;
        bool exists_flag = false;
        std::string inner_op;
        if (op == "$in" || op == "$nin") {
            const int n = 1 + gen_.Uniform(3);
            condition = "[";
            for (int idx = 0; idx < n; ++idx) {
                literals.push_back(gen_.Scalar(true));
                condition += (idx > 0 ? "," : "") + literals.back().Json();
            }
            condition += "]";
        } else if (op == "$exists") {
            exists_flag = gen_.Uniform(2) == 1;
            condition = exists_flag ? "true" : "false";
        } else if (op == "$like") {
            pattern = gen_.Pattern();
            condition = "\"" + Escaped(pattern) + "\"";
        } else if (op == "$not") {
            static const char* kInner[] = {"$eq", "$lt", "$gte", "$like"};
            inner_op = kInner[gen_.Uniform(4)];
            if (inner_op == "$like") {
                pattern = gen_.Pattern();
                condition = R"({"$like":")" + Escaped(pattern) + "\"}";
            } else {
                literals.push_back(gen_.Scalar(true));
                condition = "{\"" + inner_op + "\":" + literals.back().Json() + "}";
            }
        } else {
            literals.push_back(gen_.Scalar(true));
            condition = literals.back().Json();
        }
        out.json = "{\"" + field + "\":{\"" + op + "\":" + condition + "}}";
        for (const ModelRow& row : rows_) {
            const ModelValue& v = row.Field(field);
            bool m = false;
            if (op == "$exists") {
                m = (v.type != ModelValue::Type::kMissing) == exists_flag;
            } else if (op == "$in" || op == "$nin") {
                for (const ModelValue& literal : literals) {
                    m = m || Compare("$eq", v, literal);
                }
                m = op == "$in" ? m : !m;
            } else if (op == "$like") {
                m = Like(v, pattern);
            } else if (op == "$not") {
                m = !(inner_op == "$like" ? Like(v, pattern)
                                          : Compare(inner_op, v, literals.front()));
            } else if (op == "$ne") {
                m = !Compare("$eq", v, literals.front());
            } else {
                m = Compare(op, v, literals.front());
            }
            out.matches.push_back(m);
        }
        return out;
    }

    // Any element satisfies `op literal` (same bracket only).
    static bool Compare(const std::string& op, const ModelValue& v, const ModelValue& literal) {
        for (const ModelValue& e : v.Elements()) {
            if (Bracket(e) != Bracket(literal)) {
                continue;
            }
            const int c = CompareSame(e, literal);
            if ((op == "$eq" && c == 0) || (op == "$lt" && c < 0) || (op == "$lte" && c <= 0) ||
                (op == "$gt" && c > 0) || (op == "$gte" && c >= 0)) {
                return true;
            }
        }
        return false;
    }

    static bool Like(const ModelValue& v, const std::string& pattern) {
        for (const ModelValue& e : v.Elements()) {
            if (e.type == ModelValue::Type::kString && LikeModel(e.text, pattern)) {
                return true;
            }
        }
        return false;
    }

    static std::string Escaped(const std::string& pattern) {
        std::string out;
        for (const char c : pattern) {
            if (c == '\\') {
                out += '\\';
            }
            out += c;
        }
        return out;
    }

  private:
    ModelGen& gen_;
    const std::vector<ModelRow>& rows_;
};

// ---- PhenixQL WHERE: three-valued ----

enum class Truth { kFalse, kTrue, kUnknown };

inline Truth Not(Truth t) {
    return t == Truth::kTrue ? Truth::kFalse : t == Truth::kFalse ? Truth::kTrue : t;
}
inline Truth And(Truth a, Truth b) {
    if (a == Truth::kFalse || b == Truth::kFalse) {
        return Truth::kFalse;
    }
    return a == Truth::kTrue && b == Truth::kTrue ? Truth::kTrue : Truth::kUnknown;
}
inline Truth Or(Truth a, Truth b) {
    return Not(And(Not(a), Not(b)));
}

struct WhereCase {
    std::string sql;
    std::vector<Truth> truth;  // per row
};

class WhereModel {
  public:
    WhereModel(ModelGen& gen, const std::vector<ModelRow>& rows) : gen_(gen), rows_(rows) {}

    WhereCase Random(int depth) {
        WhereCase out;
        if (depth > 0 && gen_.Uniform(3) == 0) {
            const int kind = gen_.Uniform(4);
            if (kind >= 2) {
                WhereCase inner = Random(depth - 1);
                if (kind == 2) {
                    out.sql = "NOT (" + inner.sql + ")";
                    for (Truth t : inner.truth) {
                        out.truth.push_back(Not(t));
                    }
                } else {
                    const bool want = gen_.Uniform(2) == 1;
                    const bool negated = gen_.Uniform(2) == 1;
                    out.sql = "(" + inner.sql + ") IS " + (negated ? "NOT " : "") +
                              (want ? "TRUE" : "FALSE");
                    for (Truth t : inner.truth) {
                        const bool is = t == (want ? Truth::kTrue : Truth::kFalse);
                        out.truth.push_back(is != negated ? Truth::kTrue : Truth::kFalse);
                    }
                }
                return out;
            }
            WhereCase a = Random(depth - 1);
            WhereCase b = Random(depth - 1);
            out.sql = "(" + a.sql + (kind == 0 ? ") AND (" : ") OR (") + b.sql + ")";
            for (std::size_t idx = 0; idx < rows_.size(); ++idx) {
                out.truth.push_back(kind == 0 ? And(a.truth[idx], b.truth[idx])
                                              : Or(a.truth[idx], b.truth[idx]));
            }
            return out;
        }
        const std::string field = gen_.Field();
        const std::string path = "metadata." + field;
        const int kind = gen_.Uniform(7);
        std::vector<ModelValue> literals;
        std::string pattern;
        std::string op;
        if (kind <= 2) {
            static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
            op = kOps[gen_.Uniform(6)];
            literals.push_back(gen_.Scalar(gen_.Uniform(6) == 0));
            out.sql = path + " " + op + " " + Sql(literals.back());
        } else if (kind == 3) {
            op = gen_.Uniform(2) == 0 ? "IN" : "NOT IN";
            const int n = 1 + gen_.Uniform(3);
            out.sql = path + " " + op + " (";
            for (int idx = 0; idx < n; ++idx) {
                literals.push_back(gen_.Scalar(gen_.Uniform(5) == 0));
                out.sql += (idx > 0 ? ", " : "") + Sql(literals.back());
            }
            out.sql += ")";
        } else if (kind == 4) {
            op = gen_.Uniform(2) == 0 ? "LIKE" : "NOT LIKE";
            pattern = gen_.Pattern();
            out.sql = path + " " + op + " '" + pattern + "'";
        } else if (kind == 5) {
            op = gen_.Uniform(2) == 0 ? "IS NULL" : "IS NOT NULL";
            out.sql = path + " " + op;
        } else {
            op = "exists";
            out.sql = "exists(" + path + ")";
        }
        for (const ModelRow& row : rows_) {
            const ModelValue& v = row.Field(field);
            Truth t = Truth::kUnknown;
            if (op == "exists") {
                t = v.type != ModelValue::Type::kMissing ? Truth::kTrue : Truth::kFalse;
            } else if (op == "IS NULL" || op == "IS NOT NULL") {
                bool is_null = v.type == ModelValue::Type::kMissing;
                for (const ModelValue& e : v.Elements()) {
                    is_null = is_null || e.type == ModelValue::Type::kNull;
                }
                t = (is_null == (op == "IS NULL")) ? Truth::kTrue : Truth::kFalse;
            } else if (op == "LIKE" || op == "NOT LIKE") {
                t = LikeTruth(v, pattern);
                t = op == "LIKE" ? t : Not(t);
            } else if (op == "IN" || op == "NOT IN") {
                t = Truth::kFalse;
                for (const ModelValue& literal : literals) {
                    t = Or(t, CompareTruth("=", v, literal));
                }
                t = op == "IN" ? t : Not(t);
            } else if (op == "!=") {
                t = Not(CompareTruth("=", v, literals.front()));
            } else {
                t = CompareTruth(op, v, literals.front());
            }
            out.truth.push_back(t);
        }
        return out;
    }

    // `v op literal` over the elements: TRUE if one element makes it true, FALSE if every
    // element makes it false, else UNKNOWN. A null element or literal is UNKNOWN; another type
    // is unequal (FALSE) but unordered (UNKNOWN).
    static Truth CompareTruth(const std::string& op, const ModelValue& v,
                              const ModelValue& literal) {
        if (v.type == ModelValue::Type::kMissing || v.type == ModelValue::Type::kNull ||
            literal.type == ModelValue::Type::kNull) {
            return Truth::kUnknown;
        }
        Truth out = Truth::kFalse;
        for (const ModelValue& e : v.Elements()) {
            Truth t = Truth::kUnknown;
            if (e.type == ModelValue::Type::kNull) {
                t = Truth::kUnknown;
            } else if (Bracket(e) != Bracket(literal)) {
                t = op == "=" ? Truth::kFalse : Truth::kUnknown;
            } else {
                const int c = CompareSame(e, literal);
                const bool b = (op == "=" && c == 0) || (op == "<" && c < 0) ||
                               (op == "<=" && c <= 0) || (op == ">" && c > 0) ||
                               (op == ">=" && c >= 0);
                t = b ? Truth::kTrue : Truth::kFalse;
            }
            out = Or(out, t);
        }
        return out;
    }

    static Truth LikeTruth(const ModelValue& v, const std::string& pattern) {
        if (v.type == ModelValue::Type::kMissing || v.type == ModelValue::Type::kNull) {
            return Truth::kUnknown;
        }
        Truth out = Truth::kFalse;
        for (const ModelValue& e : v.Elements()) {
            if (e.type != ModelValue::Type::kString) {
                out = Or(out, Truth::kUnknown);
            } else {
                out = Or(out, LikeModel(e.text, pattern) ? Truth::kTrue : Truth::kFalse);
            }
        }
        return out;
    }

    static std::string Sql(const ModelValue& v) {
        switch (v.type) {
            case ModelValue::Type::kNull:
                return "NULL";
            case ModelValue::Type::kBool:
                return v.boolean ? "TRUE" : "FALSE";
            case ModelValue::Type::kString:
                return "'" + v.text + "'";
            default:
                return v.Json();
        }
    }

  private:
    ModelGen& gen_;
    const std::vector<ModelRow>& rows_;
};

}  // namespace phenix::testing
