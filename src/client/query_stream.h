// SPDX-License-Identifier: Apache-2.0
//
// Decoding phenixd's answers to POST /v1/query (docs/server.md) into what a QuerySession returns:
// rows handed to a RowSink as they arrive and the QueryResult of the last statement.
//
//   NdjsonDecoder      the streamed answer (Accept: application/x-ndjson): one JSON value per line
//                      ({"statement":0,"columns":[...]}, row arrays, {"statement":0,"rows":N},
//                      {"statement":1,"message":...,"affected":N}, {"done":{...}},
//                      {"error":{...}}, and {"statement":N,"progress":"..."} when progress
//                      was asked for), fed in pieces as they come off the socket.
//   DecodeJsonAnswer   the plain JSON answer (one body), which a server that does not stream sends.
//   StatusFromErrorBody  an error body ({"error":{"code","message",...}}) as the Status the
//                      embedded engine would have returned (same code, same message with its
//                      "line L, column C: " position).
//
// Values: JSON numbers, strings, booleans and null map to QueryValue as QueryValue::FromJson maps
// them, except that a non-empty array of numbers is a kVector (the wire does not say which
// arrays are vectors; vectors are the arrays of numbers a query returns most).
//
// Thread-compatible values; no IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/result.h>
#include <phenix/status.h>

namespace phenix::client {

// The Status for a server error: `body` is the JSON error body (or an NDJSON error line);
// `http_status` is used when the body is not one (e.g. a proxy's HTML page).
Status StatusFromErrorBody(std::string_view body, unsigned http_status);

// The StatusCode for one of the server's error code names ("INVALID_ARGUMENT", "ABORTED", ...);
// kInternal for an unknown name.
StatusCode CodeFromName(std::string_view name);

// A JSON row value as a QueryValue (see the header comment for arrays of numbers).
Result<QueryValue> ValueFromJson(std::string_view json_text);

// Decodes a streamed answer. Rows go to the sink once per Feed call (in order, as one batch).
class NdjsonDecoder {
  public:
    // `sink` must outlive the decoder.
    explicit NdjsonDecoder(RowSink& sink) : sink_(sink) {}

    // Where progress lines go ({"statement":N,"progress":"..."}); null: they are skipped.
    void set_progress(QueryProgressFn progress) { progress_ = std::move(progress); }

    // Decodes the complete lines in `bytes` (with what an earlier call left unfinished). Returns
    // the first problem: a line that is not the wire format (Internal, naming the line), the
    // sink's error, or the stream's own error line (that error, as the engine returned it).
    // After an error the decoder takes no more input.
    Status Feed(std::string_view bytes);

    // The end of the body: the last statement's result once a "done" line arrived; Unavailable
    // when the stream was cut off (no "done" and no "error" line).
    Result<QueryResult> Finish();

    // How many row lines were decoded so far (all statements).
    [[nodiscard]] std::uint64_t num_rows() const { return num_rows_; }

  private:
    Status DecodeLine(std::string_view line);
    Status FlushRows();

    RowSink& sink_;
    QueryProgressFn progress_;
    std::string partial_;  // an unfinished line
    QueryResult current_;  // the statement being decoded (rows go to the sink)
    std::vector<std::vector<QueryValue>> batch_;
    bool in_rows_ = false;  // between a header line and its end line
    bool is_done_ = false;
    Status failure_;  // the first error; Feed stops at it
    std::uint64_t num_rows_ = 0;
};

// Decodes a plain JSON answer (200): {"columns","rows"[,"message","affected"]} or
// {"results":[...]} for several statements. The rows of every statement with rows go to `sink`
// (OnColumns then OnRows); returns the last statement's result.
Result<QueryResult> DecodeJsonAnswer(std::string_view body, RowSink& sink);

}  // namespace phenix::client
