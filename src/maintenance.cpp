// SPDX-License-Identifier: Apache-2.0
// The Maintenance API: etcd's protobuf messages to etcdpp's plain structs, and the Client's
// calls about one member (pinned to its endpoint), alarms, leader transfer and snapshots.
#include "etcdpp/maintenance.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcdpp/client.hpp"

namespace etcdpp {
namespace detail {

StatusResult from_proto(pb::StatusResponse&& r) {
  StatusResult out;
  out.header = from_proto(r.header());
  out.version = std::move(*r.mutable_version());
  out.db_size = r.dbsize();
  out.leader = MemberId{r.leader()};
  out.raft_index = r.raftindex();
  out.raft_term = r.raftterm();
  out.raft_applied_index = r.raftappliedindex();
  out.errors.reserve(static_cast<std::size_t>(r.errors_size()));
  for (auto& e : *r.mutable_errors()) out.errors.push_back(std::move(e));
  out.db_size_in_use = r.dbsizeinuse();
  out.is_learner = r.islearner();
  return out;
}

}  // namespace detail

namespace {

using detail::CallStatus;
using detail::calls::CancellerPtr;
namespace pb = detail::pb;

constexpr transport::Method kStatus{"/etcdserverpb.Maintenance/Status", true};
constexpr transport::Method kAlarm{"/etcdserverpb.Maintenance/Alarm", false};
constexpr transport::Method kDefragment{"/etcdserverpb.Maintenance/Defragment", false};
constexpr transport::Method kHash{"/etcdserverpb.Maintenance/Hash", true};
constexpr transport::Method kHashKv{"/etcdserverpb.Maintenance/HashKV", true};
constexpr transport::Method kMoveLeader{"/etcdserverpb.Maintenance/MoveLeader", false};
constexpr transport::Method kSnapshot{"/etcdserverpb.Maintenance/Snapshot", true};

/// The index of `text` among the client's endpoints, or the status that says why there is none.
std::optional<std::size_t> find_endpoint(const std::vector<Endpoint>& endpoints,
                                         std::string_view text, CallStatus& failure) {
  try {
    const Endpoint wanted = Endpoint::parse(text);
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      if (endpoints[i] == wanted) return i;
    }
  } catch (const Error& e) {
    failure = CallStatus{e.code(), e.what()};
    return std::nullopt;
  }
  failure = CallStatus{make_error_code(Errc::invalid_endpoint),
                       "not one of the client's endpoints (" + detail::endpoints_text(endpoints) +
                           ")"};
  return std::nullopt;
}

std::vector<Alarm> alarms_from_proto(pb::AlarmResponse&& r) {
  std::vector<Alarm> out;
  for (const auto& a : r.alarms()) {
    out.push_back(Alarm{MemberId{a.memberid()}, static_cast<AlarmType>(a.alarm())});
  }
  return out;
}

CallStatus file_failure(const std::string& what, const std::string& path, int error) {
  return CallStatus{make_error_code(Errc::file_error),
                    what + " " + path + ": " + std::generic_category().message(error)};
}

/// Receives a snapshot into a temporary file next to its destination, and puts it in place
/// only when the stream ended cleanly; otherwise removes it.
class SnapshotWriter final : public transport::StreamObserver {
 public:
  SnapshotWriter(std::string path, std::string part, int fd, detail::Callback<SnapshotResult> cb,
                 std::shared_ptr<detail::Canceller> stream_canceller,
                 std::shared_ptr<detail::Canceller> user_canceller)
      : path_(std::move(path)),
        part_(std::move(part)),
        fd_(fd),
        cb_(std::move(cb)),
        stream_canceller_(std::move(stream_canceller)),
        user_canceller_(std::move(user_canceller)) {}

  ~SnapshotWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void on_message(const transport::Message& message) override {
    const auto& r = static_cast<const pb::SnapshotResponse&>(message);
    if (failure_) return;
    const std::string& blob = r.blob();
    std::size_t written = 0;
    while (written < blob.size()) {
      const ssize_t n = ::write(fd_, blob.data() + written, blob.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        failure_ = file_failure("cannot write", part_, errno);
        stream_canceller_->cancel();
        return;
      }
      written += static_cast<std::size_t>(n);
    }
    size_ += blob.size();
    // etcd's last messages say nothing remains: the data, then its SHA-256 checksum.
    if (r.remaining_bytes() == 0) complete_ = true;
  }

  void on_done(const transport::Status& status) override {
    if (user_canceller_) user_canceller_->clear_action();
    CallStatus outcome;
    if (failure_) {
      outcome = std::move(*failure_);
    } else if (!status.ok()) {
      outcome = detail::call_status(status.code, status.message);
    } else if (!complete_) {
      outcome = CallStatus{make_error_code(Errc::data_loss),
                           "the snapshot stream ended before the member sent it all"};
    } else {
      outcome = put_in_place();
    }
    if (outcome.code) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      ::unlink(part_.c_str());
      cb_(std::move(outcome), SnapshotResult{});
      return;
    }
    cb_(CallStatus{}, SnapshotResult{path_, size_});
  }

 private:
  CallStatus put_in_place() {
    if (::fsync(fd_) != 0) return file_failure("cannot sync", part_, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return file_failure("cannot close", part_, errno);
    if (::rename(part_.c_str(), path_.c_str()) != 0) {
      return file_failure("cannot rename " + part_ + " to", path_, errno);
    }
    // The rename is durable once the directory is synced.
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return {};
  }

  std::string path_;
  std::string part_;
  int fd_;
  detail::Callback<SnapshotResult> cb_;
  std::shared_ptr<detail::Canceller> stream_canceller_;
  std::shared_ptr<detail::Canceller> user_canceller_;
  // Touched only by the stream's reactions, which gRPC runs one at a time.
  std::uint64_t size_ = 0;
  bool complete_ = false;
  std::optional<CallStatus> failure_;
};

}  // namespace

namespace detail::calls {

void start(const CallContext& cx, StatusOf call, Callback<StatusResult> cb,
           CancellerPtr canceller) {
  const std::string& endpoint = call.endpoint;
  cb = described("status", endpoint, std::move(cb));
  CallStatus failure;
  const auto index = find_endpoint(cx.core->transport().endpoints(), endpoint, failure);
  if (!index) {
    cb(std::move(failure), StatusResult{});
    return;
  }
  // The transport outlives its calls' callbacks: they may note what they learn in it.
  auto* transport = &cx.core->transport();
  cx.core->call_on<pb::StatusResponse>(
      index, kStatus, std::make_unique<pb::StatusRequest>(), cx.timeout, std::move(canceller), true,
      [cb = std::move(cb), transport, i = *index](CallStatus status, pb::StatusResponse&& r) {
        if (!status.code) transport->note_leader(i, r.leader() == r.header().member_id());
        cb(std::move(status), from_proto(std::move(r)));
      });
}

void start(const CallContext& cx, StatusAll, Callback<std::vector<EndpointStatus>> cb,
           CancellerPtr canceller) {
  cb = described("status_all", endpoints_text(cx), std::move(cb));
  // Every endpoint at once, each pinned to its own. The calls end by their deadline; a
  // cancellation is checked once they all have (one Canceller cancels one call).
  struct Gather {
    std::mutex mutex;
    std::size_t pending = 0;
    std::vector<EndpointStatus> results;
    Callback<std::vector<EndpointStatus>> cb;
    CancellerPtr canceller;
  };
  const auto eps = cx.core->transport().endpoints();
  auto gather = std::make_shared<Gather>();
  gather->pending = eps.size();
  gather->results.resize(eps.size());
  gather->cb = std::move(cb);
  gather->canceller = std::move(canceller);
  for (std::size_t i = 0; i < eps.size(); ++i) gather->results[i].endpoint = eps[i].to_string();
  auto* transport = &cx.core->transport();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    cx.core->call_on<pb::StatusResponse>(
        i, kStatus, std::make_unique<pb::StatusRequest>(), cx.timeout, nullptr, true,
        [gather, i, transport](CallStatus status, pb::StatusResponse&& r) {
          if (!status.code) transport->note_leader(i, r.leader() == r.header().member_id());
          std::unique_lock lock(gather->mutex);
          auto& out = gather->results[i];
          if (status.code) {
            out.error = status.code;
            out.message =
                std::system_error(status.code, describe("status", out.endpoint, status))
                    .what();
          } else {
            out.status = from_proto(std::move(r));
          }
          if (--gather->pending > 0) return;
          lock.unlock();
          if (gather->canceller && gather->canceller->cancelled()) {
            gather->cb(CallStatus{make_error_code(Errc::cancelled), "cancelled"}, {});
            return;
          }
          gather->cb(CallStatus{}, std::move(gather->results));
        });
  }
}

namespace {
/// `action` is etcd's AlarmRequest.AlarmAction: 0 get, 2 deactivate.
void start_alarm(const CallContext& cx, int action, MemberId member_id, AlarmType type,
                 Callback<std::vector<Alarm>> cb, CancellerPtr canceller) {
  cb = described(action == 2 ? "alarm_disarm" : "alarm_list",
                 action == 2 ? "member " + member_id_text(member_id) : endpoints_text(cx),
                 std::move(cb));
  auto request = std::make_unique<pb::AlarmRequest>();
  request->set_action(static_cast<pb::AlarmRequest::AlarmAction>(action));
  request->set_memberid(static_cast<std::uint64_t>(member_id));
  request->set_alarm(static_cast<pb::AlarmType>(type));
  // Listing and disarming both give the same result when made twice.
  cx.core->call<pb::AlarmResponse>(kAlarm, std::move(request), cx.timeout, std::move(canceller), true,
                                 [cb = std::move(cb)](CallStatus status, pb::AlarmResponse&& r) {
                                   cb(std::move(status), alarms_from_proto(std::move(r)));
                                 });
}
}  // namespace

void start(const CallContext& cx, Status, Callback<StatusResult> cb, CancellerPtr canceller) {
  cb = described("status", endpoints_text(cx), std::move(cb));
  cx.core->call_with<pb::StatusRequest, pb::StatusResponse>(
      kStatus, [](pb::StatusRequest&) {}, cx.timeout, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::StatusResponse&& r) {
        cb(std::move(status), from_proto(std::move(r)));
      });
}

void start(const CallContext& cx, AlarmList, Callback<std::vector<Alarm>> cb,
           CancellerPtr canceller) {
  start_alarm(cx, 0, MemberId{}, AlarmType::none, std::move(cb), std::move(canceller));
}

void start(const CallContext& cx, AlarmDisarm call, Callback<std::vector<Alarm>> cb,
           CancellerPtr canceller) {
  start_alarm(cx, 2, call.member_id, call.type, std::move(cb), std::move(canceller));
}

void start(const CallContext& cx, Defragment call, Callback<DefragmentResult> cb,
           CancellerPtr canceller) {
  const std::string& endpoint = call.endpoint;
  cb = described("defragment", endpoint, std::move(cb));
  CallStatus failure;
  const auto index = find_endpoint(cx.core->transport().endpoints(), endpoint, failure);
  if (!index) {
    cb(std::move(failure), DefragmentResult{});
    return;
  }
  cx.core->call_on<pb::DefragmentResponse>(
      index, kDefragment, std::make_unique<pb::DefragmentRequest>(), cx.timeout, std::move(canceller),
      false, [cb = std::move(cb)](CallStatus status, pb::DefragmentResponse&& r) {
        cb(std::move(status), DefragmentResult{from_proto(r.header())});
      });
}

void start(const CallContext& cx, Hash call, Callback<HashResult> cb, CancellerPtr canceller) {
  const std::string& endpoint = call.endpoint;
  cb = described("hash", endpoint, std::move(cb));
  CallStatus failure;
  const auto index = find_endpoint(cx.core->transport().endpoints(), endpoint, failure);
  if (!index) {
    cb(std::move(failure), HashResult{});
    return;
  }
  cx.core->call_on<pb::HashResponse>(
      index, kHash, std::make_unique<pb::HashRequest>(), cx.timeout, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::HashResponse&& r) {
        cb(std::move(status), HashResult{from_proto(r.header()), r.hash()});
      });
}

void start(const CallContext& cx, HashKv call, Callback<HashKvResult> cb,
           CancellerPtr canceller) {
  const std::string& endpoint = call.endpoint;
  const std::int64_t revision = call.revision;
  cb = described("hash_kv", endpoint, std::move(cb));
  CallStatus failure;
  const auto index = find_endpoint(cx.core->transport().endpoints(), endpoint, failure);
  if (!index) {
    cb(std::move(failure), HashKvResult{});
    return;
  }
  auto request = std::make_unique<pb::HashKVRequest>();
  request->set_revision(revision);
  cx.core->call_on<pb::HashKVResponse>(
      index, kHashKv, std::move(request), cx.timeout, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::HashKVResponse&& r) {
        cb(std::move(status),
           HashKvResult{from_proto(r.header()), r.hash(), r.compact_revision()});
      });
}

void start(const CallContext& cx, MoveLeader call, Callback<MoveLeaderResult> cb,
           CancellerPtr canceller) {
  const MemberId target = call.target;
  cb = described("move_leader", "member " + member_id_text(target), std::move(cb));
  // etcd takes MoveLeader only from its leader: find which endpoint that is, then send it there.
  // The second call is made from the first one's callback, which holds no Client (see
  // ClientCore::call_via).
  auto* transport = &cx.core->transport();
  start(cx, StatusAll{},
      [transport, timeout = cx.timeout, all = endpoints_text(cx), target, cb = std::move(cb),
       canceller](CallStatus status, std::vector<EndpointStatus> statuses) mutable {
        if (status.code) {
          cb(std::move(status), MoveLeaderResult{});
          return;
        }
        std::optional<std::size_t> leader;
        std::uint64_t term = 0;
        MemberId leader_id{};
        for (std::size_t i = 0; i < statuses.size(); ++i) {
          const auto& s = statuses[i].status;
          if (s && s->leader != MemberId{} && s->leader == s->header.member_id &&
              (!leader || s->raft_term > term)) {
            leader = i;
            term = s->raft_term;
            leader_id = s->leader;
          }
        }
        if (!leader) {
          cb(CallStatus{make_error_code(Errc::not_leader),
                        "no endpoint of the client is the leader (" + all + ")"},
             MoveLeaderResult{});
          return;
        }
        auto request = std::make_unique<pb::MoveLeaderRequest>();
        request->set_targetid(static_cast<std::uint64_t>(target));
        ClientCore::call_via<pb::MoveLeaderResponse>(
            *transport, leader, kMoveLeader, std::move(request), timeout, std::move(canceller),
            false, [cb = std::move(cb), leader_id](CallStatus moved, pb::MoveLeaderResponse&& r) {
              cb(std::move(moved), MoveLeaderResult{from_proto(r.header()), leader_id});
            });
      },
      nullptr);
}

void start(const CallContext& cx, Snapshot call, Callback<SnapshotResult> cb,
           CancellerPtr canceller) {
  const std::string& path = call.path;
  cb = described("snapshot", path, std::move(cb));
  if (path.empty()) {
    cb(CallStatus{make_error_code(Errc::invalid_argument), "the path is empty"}, {});
    return;
  }
  // A name of its own next to the destination: the rename is then atomic, and two snapshots to
  // one path never share a partial file.
  std::string part = path + ".XXXXXX.part";
  const int fd = ::mkstemps(part.data(), 5);
  if (fd < 0) {
    cb(file_failure("cannot create", part, errno), {});
    return;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  // The stream has a Canceller of its own, so that a failed write can end it too; the caller's
  // cancels it through this one.
  auto stream_canceller = std::make_shared<Canceller>();
  if (canceller) {
    canceller->set_action([stream_canceller] { stream_canceller->cancel(); });
    if (canceller->cancelled()) stream_canceller->cancel();
  }
  auto writer =
      std::make_shared<SnapshotWriter>(path, part, fd, std::move(cb), stream_canceller, canceller);
  cx.core->transport().server_stream(
      kSnapshot, std::make_unique<pb::SnapshotRequest>(),
      [] { return std::make_unique<pb::SnapshotResponse>(); }, std::move(writer),
      transport::ServerStreamOptions{transport::Clock::now() + cx.timeout, stream_canceller,
                                     std::nullopt});
}

}  // namespace detail::calls
}  // namespace etcdpp
