// SPDX-License-Identifier: Apache-2.0
//
// phenix::client::HttpClient — a small HTTP/1.1 client for phenixd (Boost.Beast over Asio,
// plain TCP, or TLS for an https:// URL: the server's certificate and host name are always
// verified, against ServerUrl::ca_file or the system's CAs): one kept-alive connection, opened on
// first use and reopened when the server closed it while idle. A response body can be read as it
// arrives (a streamed /v1/query answer) and a request can be cancelled while it waits: the
// interrupt function is polled, and when it says so the connection is closed, which is how the
// server learns to cancel the statement (it cancels on disconnect). No proxies, no redirects.
//
// Thread-compatible: one request at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

namespace phenix::client {

// A server address: http[s]://HOST[:PORT][/PREFIX].
struct ServerUrl {
    std::string host;
    std::string port = "80";  // 443 for https
    std::string prefix;       // a path prefix without its final '/', prepended to every target
    std::string text;         // as given, for messages
    // https: TLS. The files are PEM; empty ca_file: the system's CA store.
    bool is_tls = false;
    std::string ca_file;    // --cacert: the CA(s) that signed the server's certificate
    std::string cert_file;  // --cert / --key: a client certificate (mutual TLS)
    std::string key_file;
};

// InvalidArgument for anything but http[s]://host[:port][/path].
Result<ServerUrl> ParseServerUrl(std::string_view url);

struct HttpHeader {
    std::string name;
    std::string value;
};

struct HttpResponseHead {
    unsigned status = 0;
    std::string content_type;
};

class HttpClient {
  public:
    explicit HttpClient(ServerUrl url);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Polled while a request waits for the server (every few ms); true cancels the request.
    void set_interrupt(std::function<bool()> is_interrupted) {
        interrupt_ = std::move(is_interrupted);
    }

    // Called with the response's head once it arrived, then with each piece of its body as it
    // is read. An error it returns ends the request (the connection is closed) and is returned.
    using OnHead = std::function<Status(const HttpResponseHead&)>;
    using OnBody = std::function<Status(std::string_view piece)>;

    // Sends a request to `target` (under the URL's prefix) and reads the response. Errors:
    // Unavailable when the server cannot be reached or the connection broke (the message names
    // the URL); Cancelled when the interrupt fired (the connection was closed); the callbacks'
    // errors.
    Status Send(std::string_view method, std::string_view target,
                const std::vector<HttpHeader>& headers, std::string body, const OnHead& on_head,
                const OnBody& on_body);

    // Closes the connection (the next request opens a new one).
    void Close();

    [[nodiscard]] const ServerUrl& url() const { return url_; }

    // Sent as `Authorization: Bearer TOKEN` with every request when non-empty (phenix --token).
    void set_bearer_token(std::string token) { bearer_token_ = std::move(token); }

  private:
    // https: the TLS handshake on the just-connected socket (Unavailable naming the reason: an
    // untrusted certificate, a host name mismatch, a refused client certificate).
    Status Handshake();

    struct Impl;
    ServerUrl url_;
    std::function<bool()> interrupt_;
    std::string bearer_token_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::client
