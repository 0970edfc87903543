// SPDX-License-Identifier: Apache-2.0
#include "document/filter.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "document/json.h"

namespace phenix::document {

// ---------------------------------------------------------------------------------------------
// Documents. simdjson parses a small metadata object an order of magnitude faster than
// nlohmann (well under a microsecond for 100 bytes), which matters because filtered searches
// parse the metadata of every candidate. nlohmann stays as the fallback for what simdjson
// declines (integers beyond 64 bits) and for its precise error messages.

namespace dom = simdjson::dom;

struct Document::Impl {
    dom::document doc;
    dom::element root;  // an object inside `doc`
};

namespace {

using Json = nlohmann::ordered_json;

// One parser per thread, reused across calls so that its buffers are allocated once. (A
// thread_local rather than a worker context because Document::Parse and Matches run on every
// caller's thread.) The parser is only used for the duration of one call.
dom::parser& ThreadParser() {
    thread_local dom::parser parser;
    return parser;
}

// nlohmann's message without its "[json.exception...] " prefix. The message quotes the bytes
// last read, which may be invalid UTF-8; those are replaced so that the Status message stays
// valid text for REST and gRPC.
std::string ParseErrorDetail(const Json::exception& e) {
    std::string detail = e.what();
    if (auto pos = detail.find("] "); pos != std::string::npos) {
        detail = detail.substr(pos + 2);
    }
    for (char& c : detail) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f) {
            c = '?';
        }
    }
    return detail;
}

std::string_view ElementTypeName(dom::element_type type) {
    switch (type) {
        case dom::element_type::ARRAY:
            return "an array";
        case dom::element_type::OBJECT:
            return "an object";
        case dom::element_type::STRING:
            return "a string";
        case dom::element_type::INT64:
        case dom::element_type::UINT64:
        case dom::element_type::DOUBLE:
            return "a number";
        case dom::element_type::BOOL:
            return "a boolean";
        case dom::element_type::NULL_VALUE:
            return "null";
    }
    return "a value";
}

// Parses `json` (non-empty) into `doc`, or into the thread parser's own document when `doc` is
// null (valid until the thread's next parse), and checks that it is an object.
Result<dom::element> ParseObject(std::string_view json, dom::document* doc) {
    dom::parser& parser = ThreadParser();
    auto parse = [&](std::string_view text) {
        return doc != nullptr ? parser.parse_into_document(*doc, text.data(), text.size())
                              : parser.parse(text.data(), text.size());
    };
    dom::element root;
    if (simdjson::error_code error = parse(json).get(root); error != simdjson::SUCCESS) {
        // nlohmann explains syntax errors with their position, and accepts integers beyond 64
        // bits (as doubles); re-serialising them gives text simdjson accepts.
        std::string normalized;
        try {
            normalized = Json::parse(json).dump();
        } catch (const Json::exception& e) {
            return Status::InvalidArgument("metadata is not valid JSON: " + ParseErrorDetail(e));
        }
        if (error = parse(normalized).get(root); error != simdjson::SUCCESS) {
            return Status::InvalidArgument(std::string("metadata could not be parsed: ") +
                                           simdjson::error_message(error));
        }
    }
    if (root.type() != dom::element_type::OBJECT) {
        return Status::InvalidArgument("metadata must be a JSON object, not " +
                                       std::string(ElementTypeName(root.type())));
    }
    return root;
}

// The scalar an element holds; false for arrays and objects. Strings are borrowed from the
// parsed document.
bool ToScalarView(dom::element element, ScalarView* out) {
    switch (element.type()) {
        case dom::element_type::INT64:
            out->type = ValueType::kNumber;
            out->number = static_cast<double>(element.get_int64().value_unsafe());
            return true;
        case dom::element_type::UINT64:
            out->type = ValueType::kNumber;
            out->number = static_cast<double>(element.get_uint64().value_unsafe());
            return true;
        case dom::element_type::DOUBLE: {
            const double d = element.get_double().value_unsafe();
            out->type = ValueType::kNumber;
            out->number = d == 0 ? 0.0 : d;  // -0.0 is +0.0
            return true;
        }
        case dom::element_type::STRING: {
            out->text = element.get_string().value_unsafe();
            if (auto micros = ParseTimestamp(out->text)) {
                out->type = ValueType::kTimestamp;
                out->micros = *micros;
            } else {
                out->type = ValueType::kString;
            }
            return true;
        }
        case dom::element_type::BOOL:
            out->type = element.get_bool().value_unsafe() ? ValueType::kTrue : ValueType::kFalse;
            return true;
        case dom::element_type::NULL_VALUE:
            out->type = ValueType::kNull;
            return true;
        case dom::element_type::ARRAY:
        case dom::element_type::OBJECT:
            break;
    }
    return false;
}

// The value of `key` in the object `node`: the last occurrence of a duplicated key counts (as in
// JSON.parse and merge patch). False when `node` is not an object or has no such key.
bool FieldOf(dom::element node, std::string_view key, dom::element* child) {
    dom::object object;
    if (node.get_object().get(object) != simdjson::SUCCESS) {
        return false;
    }
    bool found = false;
    for (dom::key_value_pair field : object) {
        if (field.key == key) {
            found = true;
            *child = field.value;
        }
    }
    return found;
}

// Walks `rest` from `node` (extraction rules in json_path.h), setting *exists when the end of
// the path is reached and calling visit(ScalarView) for each value there; visit returns true to
// stop. With kExistsOnly the walk stops as soon as the path exists. Returns true if stopped.
// Recursion is bounded by the path length (at most kMaxPathSegments steps, each at most two
// frames deep).
template <bool kExistsOnly, typename Visit>
bool Walk(dom::element node, std::span<const std::string> rest, bool* exists, Visit& visit) {
    ScalarView view;
    if (rest.empty()) {
        *exists = true;
        if constexpr (kExistsOnly) {
            return true;
        } else {
            if (dom::array array; node.get_array().get(array) == simdjson::SUCCESS) {
                for (dom::element item : array) {
                    if (ToScalarView(item, &view) && visit(view)) {
                        return true;
                    }
                }
                return false;
            }
            return ToScalarView(node, &view) && visit(view);
        }
    }
    switch (node.type()) {
        case dom::element_type::OBJECT: {
            dom::element child;
            return FieldOf(node, rest.front(), &child) &&
                   Walk<kExistsOnly>(child, rest.subspan(1), exists, visit);
        }
        case dom::element_type::ARRAY: {
            dom::array array;
            if (node.get_array().get(array) != simdjson::SUCCESS) {
                return false;
            }
            for (dom::element item : array) {
                if (item.type() == dom::element_type::OBJECT &&
                    Walk<kExistsOnly>(item, rest, exists, visit)) {
                    return true;
                }
            }
            return false;
        }
        default:
            return false;
    }
}

// Whether any value at `path` satisfies `pred`.
template <typename Pred>
bool AnyValue(const dom::element* root, const JsonPath& path, Pred pred) {
    if (root == nullptr) {
        return false;
    }
    bool exists = false;
    return Walk<false>(*root, path.segments(), &exists, pred);
}

bool PathExists(const dom::element* root, const JsonPath& path) {
    if (root == nullptr) {
        return false;
    }
    bool exists = false;
    auto stop = [](ScalarView) { return true; };
    Walk<true>(*root, path.segments(), &exists, stop);
    return exists;
}

bool CompareMatches(Filter::Op op, ScalarView value, ScalarView literal) {
    if (op == Filter::Op::kEq || op == Filter::Op::kNe) {
        return CompareScalars(value, literal) == 0;
    }
    if (!SameBracket(value, literal)) {
        return false;
    }
    const int c = CompareScalars(value, literal);
    switch (op) {
        case Filter::Op::kLt:
            return c < 0;
        case Filter::Op::kLte:
            return c <= 0;
        case Filter::Op::kGt:
            return c > 0;
        case Filter::Op::kGte:
            return c >= 0;
        case Filter::Op::kEq:
        case Filter::Op::kNe:
            break;
    }
    return false;
}

bool Eval(const Filter& filter, const dom::element* root) {
    switch (filter.kind) {
        case Filter::Kind::kAll:
            return true;
        case Filter::Kind::kNone:
            return false;
        case Filter::Kind::kAnd:
            return std::all_of(filter.children.begin(), filter.children.end(),
                               [&](const Filter& child) { return Eval(child, root); });
        case Filter::Kind::kOr:
            return std::any_of(filter.children.begin(), filter.children.end(),
                               [&](const Filter& child) { return Eval(child, root); });
        case Filter::Kind::kNot:
            return filter.children.empty() ? false : !Eval(filter.children.front(), root);
        case Filter::Kind::kCompare: {
            const ScalarView literal = filter.value;
            const bool any = AnyValue(root, filter.path, [&](ScalarView value) {
                return CompareMatches(filter.op, value, literal);
            });
            return filter.op == Filter::Op::kNe ? !any : any;
        }
        case Filter::Kind::kIn: {
            const bool any = AnyValue(root, filter.path, [&](ScalarView value) {
                return std::binary_search(
                    filter.values.begin(), filter.values.end(), value,
                    [](ScalarView a, ScalarView b) { return CompareScalars(a, b) < 0; });
            });
            return filter.negated_in ? !any : any;
        }
        case Filter::Kind::kExists:
            return PathExists(root, filter.path) == filter.exists;
        case Filter::Kind::kType:
            return AnyValue(root, filter.path, [&](ScalarView value) {
                return std::any_of(filter.types.begin(), filter.types.end(),
                                   [&](ValueType type) { return SameBracket(value.type, type); });
            });
        case Filter::Kind::kLike:
            return AnyValue(root, filter.path, [&](ScalarView value) {
                return (value.type == ValueType::kString || value.type == ValueType::kTimestamp) &&
                       LikeMatches(value.text, filter.value.text);
            });
    }
    return false;
}

void SortAndDedupe(std::vector<Scalar>* values) {
    std::sort(values->begin(), values->end(),
              [](const Scalar& a, const Scalar& b) { return CompareScalars(a, b) < 0; });
    values->erase(std::unique(values->begin(), values->end()), values->end());
}

// The byte after the UTF-8 character that starts at `pos` (a stray continuation byte counts as
// one character, so malformed text cannot stall the matcher).
std::size_t NextChar(std::string_view text, std::size_t pos) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) {
        ++pos;
    }
    return pos;
}

}  // namespace

bool LikeMatches(std::string_view text, std::string_view pattern) {
    // Greedy matching with backtracking to the last %: O(text x pattern) at worst, no recursion.
    constexpr std::size_t kNone = std::string_view::npos;
    std::size_t t = 0;
    std::size_t p = 0;
    std::size_t star_p = kNone;  // the pattern position after the last %
    std::size_t star_t = 0;      // where the text stood when that % was met
    while (t < text.size()) {
        if (p < pattern.size()) {
            const char c = pattern[p];
            if (c == '%') {
                star_p = ++p;
                star_t = t;
                continue;
            }
            if (c == '_') {
                t = NextChar(text, t);
                ++p;
                continue;
            }
            if (c == '\\' && p + 1 >= pattern.size()) {
                return false;  // malformed: nothing to escape
            }
            const std::size_t width = c == '\\' ? 2 : 1;
            if (text[t] == pattern[p + width - 1]) {
                ++t;
                p += width;
                continue;
            }
        }
        if (star_p == kNone) {
            return false;
        }
        // Let the last % take one more character and try again from there.
        star_t = NextChar(text, star_t);
        t = star_t;
        p = star_p;
    }
    while (p < pattern.size() && pattern[p] == '%') {
        ++p;
    }
    return p == pattern.size();
}

Status CheckLikePattern(std::string_view pattern) {
    for (std::size_t idx = 0; idx < pattern.size(); ++idx) {
        if (pattern[idx] != '\\') {
            continue;
        }
        if (idx + 1 >= pattern.size()) {
            return Status::InvalidArgument(
                "LIKE pattern ends in an escape character with nothing to escape");
        }
        const char next = pattern[idx + 1];
        if (next != '%' && next != '_' && next != '\\') {
            return Status::InvalidArgument(
                "LIKE pattern escapes a character other than %, _ or the escape character");
        }
        ++idx;
    }
    return Status::Ok();
}

Document::Document() = default;
Document::Document(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Result<Document> Document::Parse(std::string_view json) {
    if (json.empty()) {
        return Document();
    }
    auto impl = std::make_unique<Impl>();
    PHENIX_ASSIGN_OR_RETURN(impl->root, ParseObject(json, &impl->doc));
    return Document(std::move(impl));
}

Extracted Document::Extract(const JsonPath& path) const {
    Extracted out;
    if (impl_ == nullptr) {
        return out;
    }
    auto collect = [&](ScalarView view) {
        Scalar& s = out.values.emplace_back();
        s.type = view.type;
        s.number = view.number;
        s.micros = view.micros;
        s.text.assign(view.text);
        return false;
    };
    Walk<false>(impl_->root, path.segments(), &out.exists, collect);
    if (out.values.size() > 1) {
        SortAndDedupe(&out.values);
    }
    return out;
}

bool Matches(const Filter& filter, const Document& doc) {
    return Eval(filter, doc.impl_ ? &doc.impl_->root : nullptr);
}

Result<bool> Matches(const Filter& filter, std::string_view metadata_json) {
    if (metadata_json.empty()) {
        return Eval(filter, nullptr);
    }
    PHENIX_ASSIGN_OR_RETURN(dom::element root, ParseObject(metadata_json, nullptr));
    return Eval(filter, &root);
}

std::optional<JsonScalar> ScalarAt(std::string_view object_json,
                                   std::span<const std::string> path) {
    JsonScalar out;
    if (object_json.empty()) {
        return out;  // the empty object: nothing at any path
    }
    dom::element node;
    if (ThreadParser().parse(object_json.data(), object_json.size()).get(node) !=
            simdjson::SUCCESS ||
        node.type() != dom::element_type::OBJECT) {
        return std::nullopt;
    }
    for (const std::string& key : path) {
        dom::element child;
        if (!FieldOf(node, key, &child)) {
            return out;
        }
        node = child;
    }
    switch (node.type()) {
        case dom::element_type::NULL_VALUE:
            out.kind = JsonScalar::Kind::kNull;
            break;
        case dom::element_type::BOOL:
            out.kind = JsonScalar::Kind::kBool;
            out.boolean = node.get_bool().value_unsafe();
            break;
        case dom::element_type::INT64:
            out.kind = JsonScalar::Kind::kInt;
            out.int_value = node.get_int64().value_unsafe();
            break;
        case dom::element_type::UINT64:
            out.kind = JsonScalar::Kind::kUint;
            out.uint_value = node.get_uint64().value_unsafe();
            break;
        case dom::element_type::DOUBLE:
            out.kind = JsonScalar::Kind::kDouble;
            out.double_value = node.get_double().value_unsafe();
            if (out.double_value == 0 && std::signbit(out.double_value)) {
                return std::nullopt;  // "-0": parsers differ on whether it is an integer
            }
            break;
        case dom::element_type::STRING:
            out.kind = JsonScalar::Kind::kString;
            out.text.assign(node.get_string().value_unsafe());
            break;
        case dom::element_type::ARRAY:
        case dom::element_type::OBJECT:
            out.kind = JsonScalar::Kind::kComposite;
            break;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing filters (rare, so nlohmann: exact error positions and key order).

namespace {

constexpr std::string_view kFieldOperators =
    "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $type, $like, $not";

// A $type name: the ValueType that stands for it (kFalse for "boolean").
std::optional<ValueType> TypeNamed(std::string_view name) {
    static constexpr std::pair<std::string_view, ValueType> kTypes[] = {
        {"null", ValueType::kNull},     {"boolean", ValueType::kFalse},
        {"number", ValueType::kNumber}, {"timestamp", ValueType::kTimestamp},
        {"string", ValueType::kString},
    };
    for (const auto& [type_name, type] : kTypes) {
        if (name == type_name) {
            return type;
        }
    }
    return std::nullopt;
}

std::string Quote(std::string_view s) {
    std::string out;
    AppendJsonString(s, &out);
    return out;
}

std::string Describe(const Json& value) {
    switch (value.type()) {
        case Json::value_t::array:
            return value.empty() ? "an empty array" : "an array";
        case Json::value_t::object:
            return value.empty() ? "an empty object" : "an object";
        case Json::value_t::string:
            return "a string";
        case Json::value_t::boolean:
            return "a boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float:
            return "a number";
        case Json::value_t::null:
            return "null";
        default:
            return "an unsupported value";
    }
}

std::optional<Filter::Op> CompareOp(std::string_view name) {
    if (name == "$eq") {
        return Filter::Op::kEq;
    }
    if (name == "$ne") {
        return Filter::Op::kNe;
    }
    if (name == "$lt") {
        return Filter::Op::kLt;
    }
    if (name == "$lte") {
        return Filter::Op::kLte;
    }
    if (name == "$gt") {
        return Filter::Op::kGt;
    }
    if (name == "$gte") {
        return Filter::Op::kGte;
    }
    return std::nullopt;
}

bool IsFieldOperator(std::string_view name) {
    return CompareOp(name).has_value() || name == "$in" || name == "$nin" || name == "$exists" ||
           name == "$type" || name == "$like";
}

std::optional<Scalar> Literal(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return Scalar::Null();
        case Json::value_t::boolean:
            return Scalar::Bool(value.get<bool>());
        case Json::value_t::number_integer:
            return Scalar::Number(static_cast<double>(value.get<std::int64_t>()));
        case Json::value_t::number_unsigned:
            return Scalar::Number(static_cast<double>(value.get<std::uint64_t>()));
        case Json::value_t::number_float:
            return Scalar::Number(value.get<double>());
        case Json::value_t::string:
            return Scalar::String(value.get<std::string>());
        default:
            return std::nullopt;
    }
}

Filter MakeAnd(std::vector<Filter> parts) {
    if (parts.size() == 1) {
        return std::move(parts.front());
    }
    Filter f;
    f.kind = Filter::Kind::kAnd;
    f.children = std::move(parts);
    return f;
}

Filter MakeNot(Filter child) {
    Filter f;
    f.kind = Filter::Kind::kNot;
    f.children.push_back(std::move(child));
    return f;
}

// Turns a parsed JSON filter into a Filter; `where` locates the current object for messages
// ("" at the top, then e.g. "$and[1].$not").
class FilterBuilder {
  public:
    Result<Filter> FilterObject(const Json& object, const std::string& where, int depth) {
        std::vector<Filter> parts;
        for (const auto& [key, value] : object.items()) {
            if (!key.starts_with('$')) {
                PHENIX_ASSIGN_OR_RETURN(Filter part, Field(key, value, where, depth));
                parts.push_back(std::move(part));
                continue;
            }
            if (key == "$and" || key == "$or") {
                if (!value.is_array() || value.empty()) {
                    return Error(where, Quote(key) +
                                            " needs a non-empty array of filter objects, "
                                            "got " +
                                            Describe(value));
                }
                PHENIX_RETURN_IF_ERROR(CheckDepth(where, key, depth));
                Filter f;
                f.kind = key == "$and" ? Filter::Kind::kAnd : Filter::Kind::kOr;
                for (std::size_t idx = 0; idx < value.size(); ++idx) {
                    const std::string child_where =
                        Join(where, key + "[" + std::to_string(idx) + "]");
                    if (!value[idx].is_object()) {
                        return Error(child_where,
                                     "expected a filter object, got " + Describe(value[idx]));
                    }
                    PHENIX_ASSIGN_OR_RETURN(Filter child,
                                            FilterObject(value[idx], child_where, depth + 1));
                    f.children.push_back(std::move(child));
                }
                parts.push_back(std::move(f));
            } else if (key == "$not") {
                if (!value.is_object()) {
                    return Error(where, "\"$not\" needs a filter object, got " + Describe(value));
                }
                PHENIX_RETURN_IF_ERROR(CheckDepth(where, key, depth));
                if (value.empty()) {
                    Filter none;
                    none.kind = Filter::Kind::kNone;
                    parts.push_back(std::move(none));
                    continue;
                }
                PHENIX_ASSIGN_OR_RETURN(Filter child,
                                        FilterObject(value, Join(where, "$not"), depth + 1));
                parts.push_back(MakeNot(std::move(child)));
            } else if (IsFieldOperator(key)) {
                return Error(where, Quote(key) + " must be applied to a field, as in {\"year\": {" +
                                        Quote(key) + ": ...}}");
            } else {
                return Error(where, "unknown operator " + Quote(key) +
                                        " (filter operators: $and, $or, $not; field operators: " +
                                        std::string(kFieldOperators) + ")");
            }
        }
        if (parts.empty()) {
            return Filter();  // {} matches everything
        }
        return MakeAnd(std::move(parts));
    }

  private:
    static std::string Join(const std::string& where, const std::string& step) {
        return where.empty() ? step : where + "." + step;
    }

    static Status Error(const std::string& where, const std::string& message) {
        return Status::InvalidArgument("filter: " + (where.empty() ? "" : where + ": ") + message);
    }

    static Status CheckDepth(const std::string& where, const std::string& op, int depth) {
        if (depth + 1 > kMaxFilterDepth) {
            return Error(where, Quote(op) + " nests $and/$or/$not more than " +
                                    std::to_string(kMaxFilterDepth) + " levels deep");
        }
        return Status::Ok();
    }

    // A field key with its condition: a literal or an object of operators.
    Result<Filter> Field(const std::string& key, const Json& condition, const std::string& where,
                         int depth) {
        auto path = JsonPath::Parse(key);
        if (!path.ok()) {
            return Error(where, path.status().message());
        }
        if (condition.is_object()) {
            PHENIX_RETURN_IF_ERROR(CheckOperatorObject(key, condition, where, "condition on "));
            return Operators(*path, key, condition, where, depth);
        }
        std::optional<Scalar> literal = Literal(condition);
        if (!literal) {
            return Error(where, "condition on " + Quote(key) +
                                    " must be a scalar (string, number, boolean or null) or an "
                                    "object of operators, got " +
                                    Describe(condition));
        }
        Filter f;
        f.kind = Filter::Kind::kCompare;
        f.path = std::move(*path);
        f.op = Filter::Op::kEq;
        f.value = std::move(*literal);
        return f;
    }

    // An object used as a condition must be non-empty and hold only $-keys: object literals
    // (MongoDB's whole-subdocument equality) are not supported.
    static Status CheckOperatorObject(const std::string& key, const Json& object,
                                      const std::string& where, const std::string& what) {
        if (object.empty()) {
            return Error(where, what + Quote(key) +
                                    " is an empty object; use a scalar or operators such as "
                                    "{\"$eq\": ...}");
        }
        for (const auto& [op, unused] : object.items()) {
            if (!op.starts_with('$')) {
                return Error(where, what + Quote(key) + " has the non-operator key " + Quote(op) +
                                        "; object literals are not supported (operators start "
                                        "with \"$\"; use a dotted path for nested fields)");
            }
        }
        return Status::Ok();
    }

    Result<Filter> Operators(const JsonPath& path, const std::string& key, const Json& ops,
                             const std::string& where, int depth) {
        std::vector<Filter> parts;
        for (const auto& [op, arg] : ops.items()) {
            const std::string on = Quote(op) + " on " + Quote(key);
            Filter f;
            f.path = path;
            if (auto compare = CompareOp(op)) {
                std::optional<Scalar> literal = Literal(arg);
                if (!literal) {
                    return Error(where, on + " needs a scalar value, got " + Describe(arg));
                }
                f.kind = Filter::Kind::kCompare;
                f.op = *compare;
                f.value = std::move(*literal);
            } else if (op == "$in" || op == "$nin") {
                if (!arg.is_array() || arg.empty()) {
                    return Error(where,
                                 on + " needs a non-empty array of scalars, got " + Describe(arg));
                }
                if (arg.size() > kMaxInValues) {
                    return Error(where, on + " has " + std::to_string(arg.size()) +
                                            " values; the limit is " +
                                            std::to_string(kMaxInValues));
                }
                f.kind = Filter::Kind::kIn;
                f.negated_in = op == "$nin";
                f.values.reserve(arg.size());
                for (std::size_t idx = 0; idx < arg.size(); ++idx) {
                    std::optional<Scalar> literal = Literal(arg[idx]);
                    if (!literal) {
                        return Error(where, on + ": element " + std::to_string(idx) + " is " +
                                                Describe(arg[idx]) + "; only scalars are allowed");
                    }
                    f.values.push_back(std::move(*literal));
                }
                SortAndDedupe(&f.values);
            } else if (op == "$exists") {
                if (!arg.is_boolean()) {
                    return Error(where, on + " needs true or false, got " + Describe(arg));
                }
                f.kind = Filter::Kind::kExists;
                f.exists = arg.get<bool>();
            } else if (op == "$type") {
                const std::string expected =
                    " needs a type name (\"null\", \"boolean\", \"number\", \"timestamp\" or "
                    "\"string\") or a non-empty array of them, got ";
                if (arg.is_array() && arg.empty()) {
                    return Error(where, on + expected + Describe(arg));
                }
                const Json names = arg.is_array() ? arg : Json::array({arg});
                f.kind = Filter::Kind::kType;
                for (const Json& name : names) {
                    std::optional<ValueType> type;
                    if (name.is_string()) {
                        type = TypeNamed(name.get_ref<const std::string&>());
                    }
                    if (!type) {
                        return Error(where, on + expected +
                                                (name.is_string() ? Quote(name.get<std::string>())
                                                                  : Describe(name)));
                    }
                    f.types.push_back(*type);
                }
                std::sort(f.types.begin(), f.types.end());
                f.types.erase(std::unique(f.types.begin(), f.types.end()), f.types.end());
            } else if (op == "$like") {
                if (!arg.is_string()) {
                    return Error(where, on + " needs a pattern string, got " + Describe(arg));
                }
                const auto& pattern = arg.get_ref<const std::string&>();
                if (Status status = CheckLikePattern(pattern); !status.ok()) {
                    return Error(where, on + ": " + status.message());
                }
                f.kind = Filter::Kind::kLike;
                f.value = Scalar::PlainString(pattern);
            } else if (op == "$not") {
                if (!arg.is_object()) {
                    return Error(where, on +
                                            " needs an object of operators such as {\"$gt\": 5}, "
                                            "got " +
                                            Describe(arg));
                }
                PHENIX_RETURN_IF_ERROR(CheckOperatorObject(key, arg, where, "\"$not\" on "));
                PHENIX_RETURN_IF_ERROR(CheckDepth(where, op, depth));
                PHENIX_ASSIGN_OR_RETURN(Filter child, Operators(path, key, arg, where, depth + 1));
                f = MakeNot(std::move(child));
            } else if (op == "$and" || op == "$or") {
                return Error(where, Quote(op) + " cannot be used inside the condition on " +
                                        Quote(key) + "; write {" + Quote(op) + ": [{" + Quote(key) +
                                        ": ...}, ...]}");
            } else {
                return Error(where, "unknown operator " + Quote(op) + " on " + Quote(key) +
                                        " (field operators: " + std::string(kFieldOperators) + ")");
            }
            parts.push_back(std::move(f));
        }
        return MakeAnd(std::move(parts));
    }
};

// nlohmann keeps only the last of duplicated keys; a filter that says {"a": 1, "a": 2} is almost
// certainly a mistake, so the parse callback records the first duplicate.
class DuplicateKeyFinder {
  public:
    bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
        switch (event) {
            case Json::parse_event_t::object_start:
                open_objects_.emplace_back();
                break;
            case Json::parse_event_t::object_end:
                if (!open_objects_.empty()) {
                    open_objects_.pop_back();
                }
                break;
            case Json::parse_event_t::key:
                if (!open_objects_.empty() && parsed.is_string()) {
                    const auto& key = parsed.get_ref<const std::string&>();
                    if (!open_objects_.back().insert(key).second && duplicate_.empty()) {
                        duplicate_ = key;
                        has_duplicate_ = true;
                    }
                }
                break;
            default:
                break;
        }
        return true;
    }

    [[nodiscard]] bool has_duplicate() const { return has_duplicate_; }
    [[nodiscard]] const std::string& duplicate() const { return duplicate_; }

  private:
    std::vector<std::set<std::string>> open_objects_;
    std::string duplicate_;
    bool has_duplicate_ = false;
};

// JSON nesting allowed in filter text: each $and/$or level takes two (object and array) and a
// field condition a few more.
constexpr int kMaxFilterJsonDepth = 2 * kMaxFilterDepth + 8;

}  // namespace

Result<Filter> ParseFilter(std::string_view json) {
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return Filter();
    }
    if (int depth = JsonNestingDepth(json); depth > kMaxFilterJsonDepth) {
        return Status::InvalidArgument("filter: nested " + std::to_string(depth) +
                                       " levels deep; at most " + std::to_string(kMaxFilterDepth) +
                                       " levels of $and/$or/$not are allowed");
    }
    Json root;
    DuplicateKeyFinder duplicates;
    try {
        root = Json::parse(json, std::ref(duplicates));
    } catch (const Json::exception& e) {
        return Status::InvalidArgument("filter is not valid JSON: " + ParseErrorDetail(e));
    }
    if (duplicates.has_duplicate()) {
        return Status::InvalidArgument("filter: duplicate key " + Quote(duplicates.duplicate()) +
                                       " in one object; combine the conditions");
    }
    if (!root.is_object()) {
        return Status::InvalidArgument("filter must be a JSON object, got " + Describe(root));
    }
    FilterBuilder builder;
    return builder.FilterObject(root, "", 0);
}

// ---------------------------------------------------------------------------------------------
// Printing, equality, simplification.

std::string_view OpName(Filter::Op op) {
    switch (op) {
        case Filter::Op::kEq:
            return "$eq";
        case Filter::Op::kNe:
            return "$ne";
        case Filter::Op::kLt:
            return "$lt";
        case Filter::Op::kLte:
            return "$lte";
        case Filter::Op::kGt:
            return "$gt";
        case Filter::Op::kGte:
            return "$gte";
    }
    return "$eq";
}

namespace {

void AppendFilter(const Filter& f, std::string* out) {
    switch (f.kind) {
        case Filter::Kind::kAll:
            out->append("{}");
            return;
        case Filter::Kind::kNone:
            out->append("{\"$not\":{}}");
            return;
        case Filter::Kind::kAnd:
        case Filter::Kind::kOr: {
            out->append(f.kind == Filter::Kind::kAnd ? "{\"$and\":[" : "{\"$or\":[");
            for (std::size_t idx = 0; idx < f.children.size(); ++idx) {
                if (idx > 0) {
                    out->push_back(',');
                }
                AppendFilter(f.children[idx], out);
            }
            out->append("]}");
            return;
        }
        case Filter::Kind::kNot:
            out->append("{\"$not\":");
            if (f.children.empty()) {
                out->append("{}");
            } else {
                AppendFilter(f.children.front(), out);
            }
            out->push_back('}');
            return;
        case Filter::Kind::kCompare:
        case Filter::Kind::kIn:
        case Filter::Kind::kExists:
        case Filter::Kind::kType:
        case Filter::Kind::kLike:
            break;
    }
    out->push_back('{');
    AppendJsonString(f.path.ToString(), out);
    out->push_back(':');
    if (f.kind == Filter::Kind::kCompare && f.op == Filter::Op::kEq) {
        out->append(ScalarToJson(f.value));
        out->push_back('}');
        return;
    }
    out->push_back('{');
    if (f.kind == Filter::Kind::kCompare) {
        AppendJsonString(OpName(f.op), out);
        out->push_back(':');
        out->append(ScalarToJson(f.value));
    } else if (f.kind == Filter::Kind::kIn) {
        out->append(f.negated_in ? "\"$nin\":[" : "\"$in\":[");
        for (std::size_t idx = 0; idx < f.values.size(); ++idx) {
            if (idx > 0) {
                out->push_back(',');
            }
            out->append(ScalarToJson(f.values[idx]));
        }
        out->push_back(']');
    } else if (f.kind == Filter::Kind::kType) {
        out->append("\"$type\":");
        if (f.types.size() != 1) {
            out->push_back('[');
        }
        for (std::size_t idx = 0; idx < f.types.size(); ++idx) {
            if (idx > 0) {
                out->push_back(',');
            }
            AppendJsonString(ValueTypeName(f.types[idx]), out);
        }
        if (f.types.size() != 1) {
            out->push_back(']');
        }
    } else if (f.kind == Filter::Kind::kLike) {
        out->append("\"$like\":");
        AppendJsonString(f.value.text, out);
    } else {
        out->append(f.exists ? "\"$exists\":true" : "\"$exists\":false");
    }
    out->append("}}");
}

Filter Constant(bool all) {
    Filter f;
    f.kind = all ? Filter::Kind::kAll : Filter::Kind::kNone;
    return f;
}

}  // namespace

std::string Filter::ToString() const {
    std::string out;
    AppendFilter(*this, &out);
    return out;
}

bool operator==(const Filter& a, const Filter& b) {
    if (a.kind != b.kind) {
        return false;
    }
    switch (a.kind) {
        case Filter::Kind::kAll:
        case Filter::Kind::kNone:
            return true;
        case Filter::Kind::kAnd:
        case Filter::Kind::kOr:
        case Filter::Kind::kNot:
            return a.children == b.children;
        case Filter::Kind::kCompare:
            return a.path == b.path && a.op == b.op && a.value == b.value;
        case Filter::Kind::kIn:
            return a.path == b.path && a.negated_in == b.negated_in && a.values == b.values;
        case Filter::Kind::kExists:
            return a.path == b.path && a.exists == b.exists;
        case Filter::Kind::kType:
            return a.path == b.path && a.types == b.types;
        case Filter::Kind::kLike:
            return a.path == b.path && a.value.text == b.value.text;
    }
    return false;
}

Filter Simplify(Filter filter) {
    switch (filter.kind) {
        case Filter::Kind::kAll:
        case Filter::Kind::kNone:
        case Filter::Kind::kCompare:
        case Filter::Kind::kExists:
        case Filter::Kind::kType:
        case Filter::Kind::kLike:
            return filter;
        case Filter::Kind::kIn:
            if (filter.values.empty()) {
                return Constant(filter.negated_in);
            }
            if (filter.values.size() == 1) {
                filter.kind = Filter::Kind::kCompare;
                filter.op = filter.negated_in ? Filter::Op::kNe : Filter::Op::kEq;
                filter.value = std::move(filter.values.front());
                filter.values.clear();
                filter.negated_in = false;
            }
            return filter;
        case Filter::Kind::kAnd:
        case Filter::Kind::kOr: {
            const Filter::Kind kind = filter.kind;
            const Filter::Kind identity =
                kind == Filter::Kind::kAnd ? Filter::Kind::kAll : Filter::Kind::kNone;
            std::vector<Filter> flat;
            for (Filter& child : filter.children) {
                Filter simple = Simplify(std::move(child));
                if (simple.kind == identity) {
                    continue;
                }
                if (simple.kind == Filter::Kind::kAll || simple.kind == Filter::Kind::kNone) {
                    return simple;  // the absorbing constant
                }
                if (simple.kind == kind) {
                    for (Filter& grandchild : simple.children) {
                        flat.push_back(std::move(grandchild));
                    }
                } else {
                    flat.push_back(std::move(simple));
                }
            }
            if (flat.empty()) {
                return Constant(kind == Filter::Kind::kAnd);
            }
            if (flat.size() == 1) {
                return std::move(flat.front());
            }
            filter.children = std::move(flat);
            return filter;
        }
        case Filter::Kind::kNot: {
            if (filter.children.empty()) {
                return Constant(false);
            }
            Filter child = Simplify(std::move(filter.children.front()));
            switch (child.kind) {
                case Filter::Kind::kAll:
                case Filter::Kind::kNone:
                    return Constant(child.kind == Filter::Kind::kNone);
                case Filter::Kind::kNot:
                    return std::move(child.children.front());
                case Filter::Kind::kIn:
                    child.negated_in = !child.negated_in;
                    return child;
                case Filter::Kind::kExists:
                    child.exists = !child.exists;
                    return child;
                case Filter::Kind::kCompare:
                    if (child.op == Filter::Op::kEq || child.op == Filter::Op::kNe) {
                        child.op = child.op == Filter::Op::kEq ? Filter::Op::kNe : Filter::Op::kEq;
                        return child;
                    }
                    break;
                case Filter::Kind::kAnd:
                case Filter::Kind::kOr:
                case Filter::Kind::kType:
                case Filter::Kind::kLike:
                    break;
            }
            filter.children.clear();
            filter.children.push_back(std::move(child));
            return filter;
        }
    }
    return filter;
}

}  // namespace phenix::document
