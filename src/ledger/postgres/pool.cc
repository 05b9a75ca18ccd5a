#include "ledger/postgres/pool.h"

#include <algorithm>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"

namespace gpuledger::pg {
namespace {

class PooledLedger final : public Ledger {
 public:
  PooledLedger(std::string url, const PostgresOptions& o, const Clock& clock)
      : url_(std::move(url)), reach_(clock, o.backoff), slots_(std::max<size_t>(1, o.connections)) {
    for (size_t i = 0; i < slots_.size(); ++i) slots_[i].index = i;
    MutexLock lock(mu_);
    busy_.assign(slots_.size(), 0);
    open_.assign(slots_.size(), 0);
  }

  // Opens the first connection and migrates through it.
  Status Start() {
    ASSIGN_OR_RETURN(slots_[0].conn, Conn::Open(url_, &reach_));
    ASSIGN_OR_RETURN(slots_[0].ledger, OpenConnectionLedger(*slots_[0].conn, /*migrate=*/true));
    MutexLock lock(mu_);
    open_[0] = 1;
    return OkStatus();
  }

  bool thread_safe() const override { return true; }

  LedgerHealth Health() const override {
    const Reachability::State st = reach_.Get();
    LedgerHealth h;
    h.backend = "postgresql";
    h.reachable = st.up;
    h.last_error = st.last_error;
    h.down_since_ms = st.down_since_ms;
    h.next_attempt_ms = st.next_attempt_ms;
    h.failed_connects = st.failed_connects;
    h.losses = st.losses;
    h.reconnects = st.reconnects;
    MutexLock lock(mu_);
    h.retries = retries_;
    return h;
  }

  // Never waits for a busy pool: with every connection in use, their last outcome says.
  Status Ping() override {
    if (Slot* s = Pinned()) return s->ledger->Ping();
    StatusOr<Slot*> slot = Acquire(/*wait=*/false);
    if (!slot.ok()) return slot.status();
    if (*slot == nullptr) {
      const Reachability::State st = reach_.Get();
      return st.up ? OkStatus() : st.last_error;
    }
    Lease lease(*this, *slot);
    return Run(lease, [](Ledger& l) { return l.Ping(); });
  }

  Status InTransaction(const std::function<Status()>& work) override {
    if (Slot* s = Pinned()) return s->ledger->InTransaction(work);  // nested: joins the outer unit
    StatusOr<Slot*> slot = Acquire();
    if (!slot.ok()) return slot.status();
    Lease lease(*this, *slot);
    {
      MutexLock lock(mu_);
      pinned_[std::this_thread::get_id()] = *slot;
    }
    Status s = (*slot)->ledger->InTransaction(work);  // not re-run: see pool.h
    {
      MutexLock lock(mu_);
      pinned_.erase(std::this_thread::get_id());
    }
    return s;
  }

  StatusOr<LedgerSettings> GetSettings() override {
    return Call([&](Ledger& l) { return l.GetSettings(); });
  }
  Status SetSettings(const LedgerSettings& s) override {
    return Call([&](Ledger& l) { return l.SetSettings(s); });
  }
  Status PutJobs(const std::vector<Job>& jobs) override {
    return Call([&](Ledger& l) { return l.PutJobs(jobs); });
  }
  Status PutGpus(const std::vector<Gpu>& gpus) override {
    return Call([&](Ledger& l) { return l.PutGpus(gpus); });
  }
  Status PutAllocations(const std::vector<Allocation>& allocs) override {
    return Call([&](Ledger& l) { return l.PutAllocations(allocs); });
  }
  Status PutSamples(const std::vector<GpuSample>& samples) override {
    return Call([&](Ledger& l) { return l.PutSamples(samples); });
  }
  Status PutProgress(const std::string& job_id, const std::vector<EpochProgress>& epochs) override {
    return Call([&](Ledger& l) { return l.PutProgress(job_id, epochs); });
  }
  Status PutPrices(const std::vector<Price>& prices) override {
    return Call([&](Ledger& l) { return l.PutPrices(prices); });
  }
  StatusOr<std::vector<Job>> ListJobs() override {
    return Call([&](Ledger& l) { return l.ListJobs(); });
  }
  StatusOr<std::optional<Job>> GetJob(const std::string& id) override {
    return Call([&](Ledger& l) { return l.GetJob(id); });
  }
  StatusOr<std::vector<std::pair<std::string, std::string>>> ListJobField(JobField field) override {
    return Call([&](Ledger& l) { return l.ListJobField(field); });
  }
  StatusOr<std::vector<Gpu>> ListGpus() override {
    return Call([&](Ledger& l) { return l.ListGpus(); });
  }
  StatusOr<std::vector<Allocation>> AllocationsOverlapping(Window w) override {
    return Call([&](Ledger& l) { return l.AllocationsOverlapping(w); });
  }
  StatusOr<std::vector<Allocation>> AllocationsOfJob(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.AllocationsOfJob(job_id); });
  }
  Status ScanSamples(const std::string& gpu_uuid, Window w,
                     const std::function<void(const Sample&)>& fn) override {
    return Call([&](Ledger& l) { return l.ScanSamples(gpu_uuid, w, fn); });
  }
  StatusOr<std::optional<Sample>> SampleBefore(const std::string& gpu_uuid, TimeMs t) override {
    return Call([&](Ledger& l) { return l.SampleBefore(gpu_uuid, t); });
  }
  StatusOr<bool> HasSampleAtOrAfter(const std::string& gpu_uuid, TimeMs t) override {
    return Call([&](Ledger& l) { return l.HasSampleAtOrAfter(gpu_uuid, t); });
  }
  StatusOr<std::vector<Price>> ListPrices() override {
    return Call([&](Ledger& l) { return l.ListPrices(); });
  }
  StatusOr<std::vector<EpochProgress>> GetProgress(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.GetProgress(job_id); });
  }
  Status PutStopRequest(const StopRequest& r) override {
    return Call([&](Ledger& l) { return l.PutStopRequest(r); });
  }
  StatusOr<std::optional<StopRequest>> GetStopRequest(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.GetStopRequest(job_id); });
  }
  StatusOr<bool> DeleteStopRequest(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.DeleteStopRequest(job_id); });
  }
  StatusOr<int64_t> DropSamplesBefore(TimeMs cutoff) override {
    return Call([&](Ledger& l) { return l.DropSamplesBefore(cutoff); });
  }
  StatusOr<int64_t> LatestChangeOverlapping(Window w) override {
    return Call([&](Ledger& l) { return l.LatestChangeOverlapping(w); });
  }
  StatusOr<std::vector<Window>> SliceChangesSince(int64_t after_id, Window w) override {
    return Call([&](Ledger& l) { return l.SliceChangesSince(after_id, w); });
  }
  StatusOr<std::optional<int64_t>> BooksBuiltAt(const std::string& key) override {
    return Call([&](Ledger& l) { return l.BooksBuiltAt(key); });
  }
  Status ReplaceUsage(const std::string& key, int64_t built_change,
                      const std::vector<UsageRow>& rows) override {
    return Call([&](Ledger& l) { return l.ReplaceUsage(key, built_change, rows); });
  }
  StatusOr<std::vector<UsageRow>> GetUsage(const std::string& key) override {
    return Call([&](Ledger& l) { return l.GetUsage(key); });
  }
  Status PutSightings(const std::vector<LabelSighting>& s) override {
    return Call([&](Ledger& l) { return l.PutSightings(s); });
  }
  StatusOr<std::vector<LabelSighting>> FindSightings(const std::string& label,
                                                     const std::string& value) override {
    return Call([&](Ledger& l) { return l.FindSightings(label, value); });
  }
  StatusOr<std::vector<Job>> FindJobsByLabel(const std::string& key, const std::string& value) override {
    return Call([&](Ledger& l) { return l.FindJobsByLabel(key, value); });
  }
  Status PutToken(const TokenRecord& t) override {
    return Call([&](Ledger& l) { return l.PutToken(t); });
  }
  StatusOr<std::optional<TokenRecord>> FindTokenByHash(const std::string& hash) override {
    return Call([&](Ledger& l) { return l.FindTokenByHash(hash); });
  }
  StatusOr<std::optional<TokenRecord>> FindTokenById(const std::string& id) override {
    return Call([&](Ledger& l) { return l.FindTokenById(id); });
  }
  StatusOr<std::vector<TokenRecord>> ListTokens() override {
    return Call([&](Ledger& l) { return l.ListTokens(); });
  }
  Status RevokeToken(const std::string& id, TimeMs at_ms) override {
    return Call([&](Ledger& l) { return l.RevokeToken(id, at_ms); });
  }
  Status TouchToken(const std::string& id, TimeMs at_ms) override {
    return Call([&](Ledger& l) { return l.TouchToken(id, at_ms); });
  }
  StatusOr<bool> HasProject(const std::string& name) override {
    return Call([&](Ledger& l) { return l.HasProject(name); });
  }
  StatusOr<bool> HasDepartment(const std::string& name) override {
    return Call([&](Ledger& l) { return l.HasDepartment(name); });
  }
  Status AppendAudit(const AuditEntry& e) override {
    return Call([&](Ledger& l) { return l.AppendAudit(e); });
  }
  StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq, size_t limit) override {
    return Call([&](Ledger& l) { return l.ListAudit(after_seq, limit); });
  }
  Status ReplaceMinutes(const std::string& gpu_uuid, Window w,
                        const std::vector<MinuteRollup>& rows) override {
    return Call([&](Ledger& l) { return l.ReplaceMinutes(gpu_uuid, w, rows); });
  }
  StatusOr<std::vector<MinuteRollup>> GetMinutes(const std::string& gpu_uuid, Window w) override {
    return Call([&](Ledger& l) { return l.GetMinutes(gpu_uuid, w); });
  }

  Status PutEstimate(const JobEstimate& e) override {
    return Call([&](Ledger& l) { return l.PutEstimate(e); });
  }
  StatusOr<std::optional<JobEstimate>> GetEstimate(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.GetEstimate(job_id); });
  }
  Status PutJobGpuMemory(const std::vector<JobGpuMemory>& rows) override {
    return Call([&](Ledger& l) { return l.PutJobGpuMemory(rows); });
  }
  StatusOr<std::vector<JobGpuMemory>> GetJobGpuMemory(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.GetJobGpuMemory(job_id); });
  }
  StatusOr<std::string> GetOrCreateExportSalt(const std::string& candidate) override {
    return Call([&](Ledger& l) { return l.GetOrCreateExportSalt(candidate); });
  }
  StatusOr<bool> PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& d) override {
    return Call([&](Ledger& l) { return l.PutNotice(n, d); });
  }
  StatusOr<std::vector<OutboxDelivery>> DueDeliveries(TimeMs now, size_t limit) override {
    return Call([&](Ledger& l) { return l.DueDeliveries(now, limit); });
  }
  Status UpdateDelivery(const OutboxDelivery& d) override {
    return Call([&](Ledger& l) { return l.UpdateDelivery(d); });
  }
  StatusOr<std::vector<OutboxDelivery>> ListDeliveries(const std::string& cause_key) override {
    return Call([&](Ledger& l) { return l.ListDeliveries(cause_key); });
  }
  // Budgets (ledger/budgets.h).
  Status PutBudget(const BudgetRecord& b) override {
    return Call([&](Ledger& l) { return l.PutBudget(b); });
  }
  StatusOr<std::vector<BudgetRecord>> ListBudgets() override {
    return Call([&](Ledger& l) { return l.ListBudgets(); });
  }
  StatusOr<bool> DeleteBudget(BudgetScope scope, const std::string& name, std::optional<YearMonth> month) override {
    return Call([&](Ledger& l) { return l.DeleteBudget(scope, name, month); });
  }
  StatusOr<BudgetGateSetting> GetBudgetGate() override {
    return Call([&](Ledger& l) { return l.GetBudgetGate(); });
  }
  Status SetBudgetGate(const BudgetGateSetting& g) override {
    return Call([&](Ledger& l) { return l.SetBudgetGate(g); });
  }
  StatusOr<bool> PutBudgetAlert(const BudgetAlertRow& a) override {
    return Call([&](Ledger& l) { return l.PutBudgetAlert(a); });
  }
  StatusOr<std::vector<BudgetAlertRow>> ListBudgetAlerts(YearMonth month) override {
    return Call([&](Ledger& l) { return l.ListBudgetAlerts(month); });
  }
  // Monthly close (finance).
  Status PutMonthClose(const MonthClose& c) override {
    return Call([&](Ledger& l) { return l.PutMonthClose(c); });
  }
  StatusOr<std::optional<MonthClose>> GetMonthClose(const std::string& month) override {
    return Call([&](Ledger& l) { return l.GetMonthClose(month); });
  }
  StatusOr<std::vector<MonthClose>> ListMonthCloses(bool with_body) override {
    return Call([&](Ledger& l) { return l.ListMonthCloses(with_body); });
  }

  // Policies that act (#13).
  StatusOr<bool> PutDecision(PolicyDecisionRow& d) override {
    return Call([&](Ledger& l) { return l.PutDecision(d); });
  }
  StatusOr<std::optional<PolicyDecisionRow>> GetDecision(const std::string& cause_key) override {
    return Call([&](Ledger& l) { return l.GetDecision(cause_key); });
  }
  StatusOr<std::vector<PolicyDecisionRow>> ListDecisions(const std::string& job_id, TimeMs from_ms,
                                                        size_t limit) override {
    return Call([&](Ledger& l) { return l.ListDecisions(job_id, from_ms, limit); });
  }
  Status PutPause(JobPause& p) override {
    return Call([&](Ledger& l) { return l.PutPause(p); });
  }
  StatusOr<std::optional<JobPause>> OpenPause(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.OpenPause(job_id); });
  }
  Status EndPause(const std::string& job_id, TimeMs resumed_ms) override {
    return Call([&](Ledger& l) { return l.EndPause(job_id, resumed_ms); });
  }
  StatusOr<std::vector<JobPause>> ListPauses(const std::string& job_id) override {
    return Call([&](Ledger& l) { return l.ListPauses(job_id); });
  }
  StatusOr<std::vector<JobPause>> PausesOverlapping(Window w) override {
    return Call([&](Ledger& l) { return l.PausesOverlapping(w); });
  }
  Status SettlePause(const JobPause& p) override {
    return Call([&](Ledger& l) { return l.SettlePause(p); });
  }
  Status DeletePause(int64_t pause_id) override {
    return Call([&](Ledger& l) { return l.DeletePause(pause_id); });
  }
  Status SetDecisionData(const std::string& cause_key, const std::string& data_json) override {
    return Call([&](Ledger& l) { return l.SetDecisionData(cause_key, data_json); });
  }
  Status DeleteDecision(const std::string& cause_key) override {
    return Call([&](Ledger& l) { return l.DeleteDecision(cause_key); });
  }

 private:
  // A connection and its ledger, used only by the thread that leased the slot.
  struct Slot {
    size_t index = 0;
    std::unique_ptr<Conn> conn;  // null until first needed
    std::unique_ptr<Ledger> ledger;
  };

  // Returns its slot to the pool.
  class Lease {
   public:
    Lease(PooledLedger& pool, Slot* slot) : pool_(pool), slot_(slot) {}
    ~Lease() { pool_.GiveBack(*slot_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Slot* operator->() const { return slot_; }

   private:
    PooledLedger& pool_;
    Slot* slot_;
  };

  void GiveBack(const Slot& slot) {
    {
      MutexLock lock(mu_);
      busy_[slot.index] = 0;
      open_[slot.index] = slot.conn != nullptr;  // written by its lessee before this
    }
    idle_cv_.NotifyOne();
  }

  // This thread's slot while it is inside InTransaction, else null.
  Slot* Pinned() const {
    MutexLock lock(mu_);
    auto it = pinned_.find(std::this_thread::get_id());
    return it == pinned_.end() ? nullptr : it->second;
  }

  // An idle slot with a connection (opening one in an unused slot when none is idle),
  // marked busy; waits while every slot is busy, or (!wait) returns null.
  StatusOr<Slot*> Acquire(bool wait = true) {
    size_t index = slots_.size();
    {
      MutexLock lock(mu_);
      auto idle = [&]() GL_REQUIRES(mu_) {
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (!busy_[i] && open_[i]) {
            index = i;
            return true;
          }
        }
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (!busy_[i]) index = i;
        }
        return index < slots_.size();
      };
      if (wait) {
        idle_cv_.Wait(mu_, idle);
      } else if (!idle()) {
        return nullptr;
      }
      busy_[index] = 1;
    }
    Slot* slot = &slots_[index];
    if (!slot->conn) {
      StatusOr<std::unique_ptr<Conn>> c = Conn::Open(url_, &reach_);
      StatusOr<std::unique_ptr<Ledger>> l = c.ok() ? OpenConnectionLedger(**c, /*migrate=*/false)
                                                   : StatusOr<std::unique_ptr<Ledger>>(c.status());
      if (!l.ok()) {
        Lease give_back(*this, slot);
        return l.status();
      }
      slot->conn = std::move(*c);
      slot->ledger = std::move(*l);
    }
    return slot;
  }

  template <typename Fn>
  auto Run(Lease& lease, Fn&& fn) -> decltype(fn(std::declval<Ledger&>())) {
    const Conn::Mark mark = lease->conn->mark();
    auto r = fn(*lease->ledger);
    if (!r.ok() && lease->conn->SafeToRetrySince(mark)) {
      {
        MutexLock lock(mu_);
        ++retries_;
      }
      r = fn(*lease->ledger);  // its first statement reconnects (when the backoff allows)
    }
    return r;
  }

  template <typename Fn>
  auto Call(Fn&& fn) -> decltype(fn(std::declval<Ledger&>())) {
    if (Slot* s = Pinned()) return fn(*s->ledger);  // inside a unit of work: its failure is the unit's
    StatusOr<Slot*> slot = Acquire();
    if (!slot.ok()) return slot.status();
    Lease lease(*this, *slot);
    return Run(lease, fn);
  }

  const std::string url_;
  Reachability reach_;       // thread-safe; shared by every slot's connection
  std::vector<Slot> slots_;  // fixed size after construction; a slot is its lessee's
  mutable Mutex mu_;
  CondVar idle_cv_;                            // a slot became idle
  std::vector<char> busy_ GL_GUARDED_BY(mu_);  // per slot: leased
  std::vector<char> open_ GL_GUARDED_BY(mu_);  // per slot: has a connection (when not busy)
  std::unordered_map<std::thread::id, Slot*> pinned_ GL_GUARDED_BY(mu_);  // inside InTransaction
  int64_t retries_ GL_GUARDED_BY(mu_) = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Ledger>> OpenPool(const std::string& url, const PostgresOptions& options) {
  static const SystemClock system_clock;
  auto pool = std::make_unique<PooledLedger>(url, options, options.clock ? *options.clock : system_clock);
  RETURN_IF_ERROR(pool->Start());
  return std::unique_ptr<Ledger>(std::move(pool));
}

}  // namespace gpuledger::pg

namespace gpuledger {

StatusOr<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, const PostgresOptions& options) {
  return pg::OpenPool(url, options);
}

StatusOr<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url) {
  return pg::OpenPool(url, PostgresOptions{});
}

}  // namespace gpuledger
