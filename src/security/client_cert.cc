// SPDX-License-Identifier: Apache-2.0
#include "security/client_cert.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace phenix::security {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMatchers[] = {"cn", "dn", "san"};
constexpr std::string_view kKeys[] = {"cn", "dn", "san", "principal", "tenant", "roles"};

}  // namespace

Result<std::unique_ptr<ClientCertificateMap>> ClientCertificateMap::Parse(std::string_view json) {
    const Json document = Json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
        return Status::InvalidArgument("not valid JSON");
    }
    if (!document.is_object() || !document.contains("clients") || !document["clients"].is_array() ||
        document.size() != 1) {
        return Status::InvalidArgument("expected {\"clients\": [rule, ...]} and nothing else");
    }
    auto map = std::make_unique<ClientCertificateMap>();
    std::set<std::pair<Field, std::string>> seen;
    std::size_t rule_idx = 0;
    for (const Json& entry : document["clients"]) {
        const std::string where = "clients[" + std::to_string(rule_idx++) + "]";
        if (!entry.is_object()) {
            return Status::InvalidArgument(where + " is not an object");
        }
        for (const auto& [key, value] : entry.items()) {
            if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
                return Status::InvalidArgument(where + ": unknown key '" + key +
                                               "' (cn, dn, san, principal, tenant, roles)");
            }
            if (key != "roles" && (!value.is_string() || value.get<std::string>().empty())) {
                return Status::InvalidArgument(where + ": '" + key +
                                               "' must be a non-empty string");
            }
        }
        Rule rule;
        int num_matchers = 0;
        for (std::string_view matcher : kMatchers) {
            if (entry.contains(std::string(matcher))) {
                ++num_matchers;
                rule.field = matcher == "cn"   ? Field::kCommonName
                             : matcher == "dn" ? Field::kSubject
                                               : Field::kSubjectAltName;
                rule.value = entry[std::string(matcher)].get<std::string>();
            }
        }
        if (num_matchers != 1) {
            return Status::InvalidArgument(where + " must match on exactly one of cn, dn, san");
        }
        if (!seen.emplace(rule.field, rule.value).second) {
            return Status::InvalidArgument(where + " matches what an earlier rule matches ('" +
                                           rule.value + "')");
        }
        if (!entry.contains("tenant")) {
            return Status::InvalidArgument(where + " names no tenant");
        }
        const Json& roles = entry.contains("roles") ? entry["roles"] : Json();
        if (!roles.is_array() || roles.empty()) {
            return Status::InvalidArgument(where + ": 'roles' must be a non-empty array of names");
        }
        for (const Json& role : roles) {
            if (!role.is_string() || role.get<std::string>().empty()) {
                return Status::InvalidArgument(where + ": 'roles' must hold non-empty strings");
            }
            rule.principal.roles.push_back(role.get<std::string>());
        }
        rule.principal.subject = entry.contains("principal") ? entry["principal"].get<std::string>()
                                                             : "cert:" + rule.value;
        rule.principal.tenant = entry["tenant"].get<std::string>();
        rule.principal.method = AuthMethod::kClientCertificate;
        map->rules_.push_back(std::move(rule));
    }
    return map;
}

Result<std::unique_ptr<ClientCertificateMap>> ClientCertificateMap::Load(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return Status::InvalidArgument("--tls-client-map " + path + ": cannot be read");
    }
    std::ostringstream text;
    text << file.rdbuf();
    auto parsed = Parse(text.str());
    if (!parsed.ok()) {
        return Status::InvalidArgument("--tls-client-map " + path + ": " +
                                       std::string(parsed.status().message()));
    }
    return parsed;
}

bool ClientCertificateMap::Matches(const Rule& rule, const ClientCertificate& certificate) {
    switch (rule.field) {
        case Field::kCommonName:
            return !certificate.common_name.empty() && certificate.common_name == rule.value;
        case Field::kSubject:
            return certificate.subject == rule.value;
        case Field::kSubjectAltName:
            return std::find(certificate.sans.begin(), certificate.sans.end(), rule.value) !=
                   certificate.sans.end();
    }
    return false;
}

Result<Principal> ClientCertificateMap::Authenticate(const Credentials& credentials) {
    const ClientCertificate* certificate = credentials.client_certificate;
    if (certificate == nullptr || certificate->subject.empty()) {
        return Status::Unauthenticated("no client certificate");
    }
    for (const Rule& rule : rules_) {
        if (Matches(rule, *certificate)) {
            return rule.principal;
        }
    }
    return Status::Unauthenticated("client certificate '" + certificate->subject +
                                   "' matches no rule of --tls-client-map");
}

Result<std::unique_ptr<ClientCertificateMapFile>> ClientCertificateMapFile::Load(std::string path) {
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<ClientCertificateMap> map,
                            ClientCertificateMap::Load(path));
    return std::unique_ptr<ClientCertificateMapFile>(
        new ClientCertificateMapFile(std::move(path), std::move(map)));
}

std::shared_ptr<ClientCertificateMap> ClientCertificateMapFile::Map() const {
    MutexLock lock(mu_);
    return map_;
}

Result<Principal> ClientCertificateMapFile::Authenticate(const Credentials& credentials) {
    return Map()->Authenticate(credentials);
}

Result<std::size_t> ClientCertificateMapFile::Reload() {
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<ClientCertificateMap> loaded,
                            ClientCertificateMap::Load(path_));
    const std::size_t num_rules = loaded->size();
    std::shared_ptr<ClientCertificateMap> previous;  // released outside the lock
    {
        MutexLock lock(mu_);
        previous = std::exchange(map_, std::move(loaded));
    }
    return num_rules;
}

}  // namespace phenix::security
