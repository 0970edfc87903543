// SPDX-License-Identifier: Apache-2.0
#include "query/lexer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"

namespace phenix::query {
namespace {

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}
bool IsWordStart(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool IsWordChar(char c) {
    return IsWordStart(c) || IsDigit(c);
}
std::string HexByte(unsigned char byte) {
    static constexpr char kHex[] = "0123456789abcdef";
    return {kHex[byte >> 4], kHex[byte & 0xf]};
}

bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Walks the text keeping line and column; the position counters fit in 32 bits because the text
// is at most kMaxQueryBytes long.
class Lexer {
  public:
    explicit Lexer(std::string_view text) : text_(text) {}

    Result<std::vector<Token>> Run() {
        std::vector<Token> tokens;
        while (true) {
            PHENIX_RETURN_IF_ERROR(SkipSpaceAndComments());
            Token token;
            token.pos = pos_;
            if (AtEnd()) {
                tokens.push_back(std::move(token));
                return tokens;
            }
            PHENIX_RETURN_IF_ERROR(LexOne(token));
            token.text = text_.substr(token.pos.offset, pos_.offset - token.pos.offset);
            tokens.push_back(std::move(token));
        }
    }

  private:
    [[nodiscard]] bool AtEnd() const { return pos_.offset >= text_.size(); }
    [[nodiscard]] char Peek(std::size_t ahead = 0) const {
        std::size_t idx = pos_.offset + ahead;
        return idx < text_.size() ? text_[idx] : '\0';
    }
    void Advance() {
        if (text_[pos_.offset] == '\n') {
            ++pos_.line;
            pos_.column = 1;
        } else {
            ++pos_.column;
        }
        ++pos_.offset;
    }
    void Advance(std::size_t count) {
        for (std::size_t step = 0; step < count; ++step) {
            Advance();
        }
    }

    Status SkipSpaceAndComments() {
        while (!AtEnd()) {
            char c = Peek();
            if (IsSpace(c)) {
                Advance();
            } else if (c == '-' && Peek(1) == '-') {
                while (!AtEnd() && Peek() != '\n') {
                    Advance();
                }
            } else if (c == '/' && Peek(1) == '*') {
                SourcePos start = pos_;
                Advance(2);
                while (!AtEnd() && !(Peek() == '*' && Peek(1) == '/')) {
                    Advance();
                }
                if (AtEnd()) {
                    return Status::InvalidArgument(
                        PositionedMessage(start, "unterminated comment"));
                }
                Advance(2);
            } else {
                break;
            }
        }
        return Status::Ok();
    }

    // A quoted run ending at `quote`, where a doubled quote stands for one.
    Status LexQuoted(char quote, std::string_view what, Token& token) {
        Advance();
        while (true) {
            if (AtEnd()) {
                return Status::InvalidArgument(
                    PositionedMessage(token.pos, "unterminated " + std::string(what)));
            }
            char c = Peek();
            if (c == quote) {
                if (Peek(1) != quote) {
                    Advance();
                    return Status::Ok();
                }
                Advance();
            }
            token.value.push_back(c);
            Advance();
        }
    }

    void LexNumber(Token& token) {
        token.kind = TokenKind::kInteger;
        while (IsDigit(Peek())) {
            Advance();
        }
        // A '.' belongs to the number only when a digit follows, so `1..2` is 1 .. 2.
        if (Peek() == '.' && IsDigit(Peek(1))) {
            token.kind = TokenKind::kFloat;
            Advance();
            while (IsDigit(Peek())) {
                Advance();
            }
        }
        if (Peek() == 'e' || Peek() == 'E') {
            std::size_t sign = (Peek(1) == '+' || Peek(1) == '-') ? 1 : 0;
            if (IsDigit(Peek(1 + sign))) {
                token.kind = TokenKind::kFloat;
                Advance(1 + sign);
                while (IsDigit(Peek())) {
                    Advance();
                }
            }
        }
    }

    // A balanced JSON object or array, scanned without recursion; its content is checked later by
    // the document module, here only braces, brackets and strings matter.
    // Nesting past kMaxJsonLiteralDepth is refused here, before any recursive JSON code (the
    // parser, the serializer) sees the literal.
    Status LexJson(Token& token) {
        token.kind = TokenKind::kJson;
        std::vector<char> closers;
        std::size_t max_depth = 0;
        SourcePos too_deep_pos;  // the first bracket past the limit
        while (true) {
            if (AtEnd()) {
                return Status::InvalidArgument(
                    PositionedMessage(token.pos, "unterminated JSON literal"));
            }
            char c = Peek();
            if (c == '{' || c == '[') {
                closers.push_back(c == '{' ? '}' : ']');
                if (closers.size() > max_depth) {
                    max_depth = closers.size();
                    if (max_depth == kMaxJsonLiteralDepth + 1) {
                        too_deep_pos = pos_;
                    }
                }
            } else if (c == '}' || c == ']') {
                if (closers.empty() || closers.back() != c) {
                    return Status::InvalidArgument(PositionedMessage(
                        pos_, std::string("unbalanced '") + c + "' in JSON literal"));
                }
                closers.pop_back();
                if (closers.empty()) {
                    Advance();
                    if (max_depth > kMaxJsonLiteralDepth) {
                        return Status::InvalidArgument(PositionedMessage(
                            too_deep_pos, "JSON literal is nested " + std::to_string(max_depth) +
                                              " levels deep; the limit is " +
                                              std::to_string(kMaxJsonLiteralDepth)));
                    }
                    return Status::Ok();
                }
            } else if (c == '"') {
                Advance();
                while (!AtEnd() && Peek() != '"') {
                    if (Peek() == '\\' && pos_.offset + 1 < text_.size()) {
                        Advance();
                    }
                    Advance();
                }
                if (AtEnd()) {
                    return Status::InvalidArgument(
                        PositionedMessage(token.pos, "unterminated JSON literal"));
                }
            }
            Advance();
        }
    }

    // Whether a '[' at the current position opens a JSON array of objects: `[` then `{`.
    [[nodiscard]] bool JsonArrayAhead() const {
        std::size_t idx = pos_.offset + 1;
        while (idx < text_.size() && IsSpace(text_[idx])) {
            ++idx;
        }
        return idx < text_.size() && text_[idx] == '{';
    }

    Status LexOne(Token& token) {
        char c = Peek();
        if (IsWordStart(c)) {
            token.kind = TokenKind::kWord;
            while (IsWordChar(Peek())) {
                Advance();
            }
            return Status::Ok();
        }
        if (IsDigit(c)) {
            LexNumber(token);
            return Status::Ok();
        }
        if (c == '\'') {
            token.kind = TokenKind::kString;
            return LexQuoted('\'', "string literal", token);
        }
        if (c == '"') {
            token.kind = TokenKind::kQuotedIdent;
            PHENIX_RETURN_IF_ERROR(LexQuoted('"', "quoted identifier", token));
            if (token.value.empty()) {
                return Status::InvalidArgument(
                    PositionedMessage(token.pos, "empty quoted identifier"));
            }
            return Status::Ok();
        }
        if (c == '$') {
            token.kind = TokenKind::kParam;
            Advance();
            if (IsDigit(Peek())) {
                while (IsDigit(Peek())) {
                    token.value.push_back(Peek());
                    Advance();
                }
            } else if (IsWordStart(Peek())) {
                while (IsWordChar(Peek())) {
                    token.value.push_back(Peek());
                    Advance();
                }
            } else {
                return Status::InvalidArgument(
                    PositionedMessage(token.pos, "expected a parameter number or name after '$'"));
            }
            return Status::Ok();
        }
        if (c == '{' || (c == '[' && JsonArrayAhead())) {
            return LexJson(token);
        }
        token.kind = TokenKind::kSymbol;
        static constexpr std::string_view kSymbols[] = {
            "<->", "<=>", "<#>", "!=", "<>", "<=", ">=", "->", "..", "||", "(", ")", "[",
            "]",   ",",   ";",   ".",  "*",  ":",  "=",  "<",  ">",  "-",  "+", "/", "%",
        };
        std::string_view rest = text_.substr(pos_.offset);
        for (std::string_view symbol : kSymbols) {
            if (rest.starts_with(symbol)) {
                Advance(symbol.size());
                return Status::Ok();
            }
        }
        std::string shown =
            (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
                ? "'" + std::string(1, c) + "'"
                : "byte 0x" + HexByte(static_cast<unsigned char>(c));
        return Status::InvalidArgument(PositionedMessage(token.pos, "unexpected " + shown));
    }

    std::string_view text_;
    SourcePos pos_;
};

}  // namespace

std::string PositionedMessage(SourcePos pos, std::string_view message) {
    return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column) + ": " +
           std::string(message);
}

Result<std::vector<Token>> Lex(std::string_view text) {
    if (text.size() > kMaxQueryBytes) {
        return Status::InvalidArgument("query text of " + std::to_string(text.size()) +
                                       " bytes is longer than the limit of " +
                                       std::to_string(kMaxQueryBytes));
    }
    if (std::size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
        // Strings reach JSON documents, ids and labels, which are UTF-8: refuse the text whole
        // (as PostgreSQL does) rather than let a literal be stored altered or fail deep inside.
        SourcePos pos;
        for (std::size_t idx = 0; idx < bad; ++idx) {
            if (text[idx] == '\n') {
                ++pos.line;
                pos.column = 1;
            } else {
                ++pos.column;
            }
        }
        pos.offset = static_cast<std::uint32_t>(bad);
        return Status::InvalidArgument(
            PositionedMessage(pos, "the query text is not valid UTF-8 (byte 0x" +
                                       HexByte(static_cast<unsigned char>(text[bad])) + ")"));
    }
    return Lexer(text).Run();
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
    // Optimal string alignment: insertions, deletions, substitutions and transpositions of
    // adjacent characters ("dosc" is one edit from "docs") each cost 1.
    std::vector<std::size_t> before(b.size() + 1);
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t col = 0; col <= b.size(); ++col) {
        prev[col] = col;
    }
    for (std::size_t row = 1; row <= a.size(); ++row) {
        cur[0] = row;
        for (std::size_t col = 1; col <= b.size(); ++col) {
            const std::size_t cost = a[row - 1] == b[col - 1] ? 0 : 1;
            cur[col] = std::min({prev[col] + 1, cur[col - 1] + 1, prev[col - 1] + cost});
            if (row > 1 && col > 1 && a[row - 1] == b[col - 2] && a[row - 2] == b[col - 1]) {
                cur[col] = std::min(cur[col], before[col - 2] + 1);
            }
        }
        std::swap(before, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace phenix::query
