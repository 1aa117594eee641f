// SPDX-License-Identifier: Apache-2.0
// The `etcdpp-json/1` route codec: a small JSON writer and reader for the two route types only,
// so that the library needs no JSON dependency. The reader accepts any JSON (objects, arrays,
// strings with escapes, numbers, true/false/null) and picks out the fields it knows.
#include "etcdpp/registry/route.hpp"

#include <charconv>
#include <map>
#include <memory>
#include <variant>

namespace etcdpp::registry {
namespace {

// ---- writing ----

void write_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);  // UTF-8 passes through as is
        }
    }
  }
  out.push_back('"');
}

void write_field(std::string& out, std::string_view name, bool first = false) {
  if (!first) out.push_back(',');
  write_string(out, name);
  out.push_back(':');
}

void write_version(std::string& out, const Version& v) {
  out.push_back('{');
  write_field(out, "name", true);
  write_string(out, v.name);
  write_field(out, "release");
  write_string(out, v.release);
  write_field(out, "commit");
  write_string(out, v.commit);
  write_field(out, "license");
  write_string(out, v.license);
  out.push_back('}');
}

// ---- reading ----

struct Json;
using JsonObject = std::map<std::string, Json, std::less<>>;
using JsonArray = std::vector<Json>;
struct Json {
  // null, bool, number (kept as text, converted on use), string, array, object
  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<JsonArray>,
               std::shared_ptr<JsonObject>>
      value;
  std::string number_text;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  std::optional<Json> document() {
    auto v = value(0);
    skip_space();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  static constexpr int kMaxDepth = 32;

  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::optional<Json> value(int depth) {
    if (depth > kMaxDepth) return std::nullopt;
    skip_space();
    if (pos_ >= s_.size()) return std::nullopt;
    const char c = s_[pos_];
    Json j;
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      j.value = std::move(*str);
      return j;
    }
    if (consume("true")) {
      j.value = true;
      return j;
    }
    if (consume("false")) {
      j.value = false;
      return j;
    }
    if (consume("null")) return j;
    return number();
  }

  std::optional<Json> number() {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    if (!digits()) return std::nullopt;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return std::nullopt;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return std::nullopt;
    }
    Json j;
    j.value = 0.0;
    j.number_text = std::string(s_.substr(start, pos_ - start));
    return j;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  std::optional<std::uint32_t> hex4() {
    if (pos_ + 4 > s_.size()) return std::nullopt;
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, v, 16);
    if (ec != std::errc() || end != s_.data() + pos_ + 4) return std::nullopt;
    pos_ += 4;
    return v;
  }

  std::optional<std::string> string() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return std::nullopt;
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          auto cp = hex4();
          if (!cp) return std::nullopt;
          if (*cp >= 0xd800 && *cp < 0xdc00) {  // a surrogate pair
            if (!consume("\\u")) return std::nullopt;
            auto low = hex4();
            if (!low || *low < 0xdc00 || *low >= 0xe000) return std::nullopt;
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*low - 0xdc00);
          } else if (*cp >= 0xdc00 && *cp < 0xe000) {
            return std::nullopt;
          }
          append_utf8(out, *cp);
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<Json> array(int depth) {
    ++pos_;
    auto items = std::make_shared<JsonArray>();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Json{items, {}};
    }
    while (true) {
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      items->push_back(std::move(*v));
      skip_space();
      if (pos_ >= s_.size()) return std::nullopt;
      if (s_[pos_] == ']') {
        ++pos_;
        return Json{items, {}};
      }
      if (s_[pos_++] != ',') return std::nullopt;
    }
  }

  std::optional<Json> object(int depth) {
    ++pos_;
    auto fields = std::make_shared<JsonObject>();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Json{fields, {}};
    }
    while (true) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return std::nullopt;
      auto name = string();
      if (!name) return std::nullopt;
      skip_space();
      if (pos_ >= s_.size() || s_[pos_++] != ':') return std::nullopt;
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      fields->insert_or_assign(std::move(*name), std::move(*v));
      skip_space();
      if (pos_ >= s_.size()) return std::nullopt;
      if (s_[pos_] == '}') {
        ++pos_;
        return Json{fields, {}};
      }
      if (s_[pos_++] != ',') return std::nullopt;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

const JsonObject* as_object(const Json& j) {
  const auto* p = std::get_if<std::shared_ptr<JsonObject>>(&j.value);
  return p ? p->get() : nullptr;
}
const Json* field(const JsonObject& o, std::string_view name) {
  const auto it = o.find(name);
  return it == o.end() ? nullptr : &it->second;
}
// A missing field takes its default; a field of the wrong type fails the decode.
bool read_string(const JsonObject& o, std::string_view name, std::string& out) {
  const Json* j = field(o, name);
  if (j == nullptr) return true;
  const auto* s = std::get_if<std::string>(&j->value);
  if (s == nullptr) return false;
  out = *s;
  return true;
}
bool read_bool(const JsonObject& o, std::string_view name, bool& out) {
  const Json* j = field(o, name);
  if (j == nullptr) return true;
  const auto* b = std::get_if<bool>(&j->value);
  if (b == nullptr) return false;
  out = *b;
  return true;
}
template <class Int>
bool read_int(const JsonObject& o, std::string_view name, Int& out) {
  const Json* j = field(o, name);
  if (j == nullptr) return true;
  if (j->number_text.empty()) return false;
  Int v{};
  const auto& t = j->number_text;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return false;  // fractions refused
  out = v;
  return true;
}
bool read_version(const JsonObject& o, std::string_view name, Version& out) {
  const Json* j = field(o, name);
  if (j == nullptr) return true;
  const JsonObject* v = as_object(*j);
  return v != nullptr && read_string(*v, "name", out.name) &&
         read_string(*v, "release", out.release) && read_string(*v, "commit", out.commit) &&
         read_string(*v, "license", out.license);
}
// The document's top object, when it is `etcdpp-json/1` (its "v" is 1).
std::optional<std::shared_ptr<JsonObject>> top(std::string_view value) {
  if (value.empty() || value.front() != '{') return std::nullopt;
  auto doc = Reader(value).document();
  if (!doc) return std::nullopt;
  auto* object = std::get_if<std::shared_ptr<JsonObject>>(&doc->value);
  if (object == nullptr) return std::nullopt;
  int version = 0;
  if (!read_int(**object, "v", version) || version != 1) return std::nullopt;
  return *object;
}

}  // namespace

std::string_view to_string(ApplicationMode mode) noexcept {
  switch (mode) {
    case ApplicationMode::temporary: return "temporary";
    case ApplicationMode::transient: return "transient";
    case ApplicationMode::permanent: return "permanent";
  }
  return "?";
}

std::string_view to_string(ApplicationState state) noexcept {
  switch (state) {
    case ApplicationState::loaded: return "loaded";
    case ApplicationState::running: return "running";
    case ApplicationState::stopping: return "stopping";
  }
  return "?";
}

std::string encode_node_routes(const std::vector<Route>& routes) {
  std::string out = "{\"v\":1,\"routes\":[";
  bool first = true;
  for (const Route& r : routes) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('{');
    write_field(out, "host", true);
    write_string(out, r.host);
    write_field(out, "port");
    out += std::to_string(r.port);
    write_field(out, "tls");
    out += r.tls ? "true" : "false";
    write_field(out, "handshake");
    write_version(out, r.handshake);
    write_field(out, "proto");
    write_version(out, r.proto);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string encode_application_route(const ApplicationRoute& route) {
  std::string out = "{\"v\":1";
  write_field(out, "node");
  write_string(out, route.node);
  write_field(out, "name");
  write_string(out, route.name);
  write_field(out, "weight");
  out += std::to_string(route.weight);
  write_field(out, "mode");
  out += std::to_string(static_cast<int>(route.mode));
  write_field(out, "state");
  out += std::to_string(static_cast<int>(route.state));
  out.push_back('}');
  return out;
}

std::optional<std::vector<Route>> decode_node_routes(std::string_view value) {
  auto object = top(value);
  if (!object) return std::nullopt;
  std::vector<Route> routes;
  const Json* list = field(**object, "routes");
  if (list == nullptr) return routes;
  const auto* array = std::get_if<std::shared_ptr<JsonArray>>(&list->value);
  if (array == nullptr) return std::nullopt;
  for (const Json& item : **array) {
    const JsonObject* o = as_object(item);
    Route r;
    if (o == nullptr || !read_string(*o, "host", r.host) || !read_int(*o, "port", r.port) ||
        !read_bool(*o, "tls", r.tls) || !read_version(*o, "handshake", r.handshake) ||
        !read_version(*o, "proto", r.proto)) {
      return std::nullopt;
    }
    routes.push_back(std::move(r));
  }
  return routes;
}

std::optional<ApplicationRoute> decode_application_route(std::string_view value) {
  auto object = top(value);
  if (!object) return std::nullopt;
  const JsonObject& o = **object;
  ApplicationRoute r;
  int mode = 1;
  int state = 1;
  if (!read_string(o, "node", r.node) || !read_string(o, "name", r.name) ||
      !read_int(o, "weight", r.weight) || !read_int(o, "mode", mode) ||
      !read_int(o, "state", state)) {
    return std::nullopt;
  }
  if (mode < 1 || mode > 3 || state < 1 || state > 3) return std::nullopt;
  r.mode = static_cast<ApplicationMode>(mode);
  r.state = static_cast<ApplicationState>(state);
  return r;
}

}  // namespace etcdpp::registry
