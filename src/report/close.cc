#include "report/close.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/money.h"
#include "common/strings.h"
#include "cost/cost_engine.h"

namespace gpuledger {

namespace {

using Json = nlohmann::ordered_json;

Json RowJson(const UsageRow& r) {
  return Json::array({r.job_id, r.gpu_uuid, r.gpu_model, r.period_start, r.period_end, r.gpu_ns, r.covered_ns,
                      r.busy_ns, r.dense_ns, r.util_ns, r.energy_mj, r.peak_mem_mib, r.loading_ns,
                      r.steady_ns, r.tail_ns, r.idle_ns, r.energy_flags});
}

UsageRow RowFrom(const Json& a) {
  UsageRow r;
  r.job_id = a.at(0).get<std::string>();
  r.gpu_uuid = a.at(1).get<std::string>();
  r.gpu_model = a.at(2).get<std::string>();
  int64_t* const ints[] = {&r.period_start, &r.period_end, &r.gpu_ns,    &r.covered_ns,   &r.busy_ns,
                           &r.dense_ns,     &r.util_ns,    &r.energy_mj, &r.peak_mem_mib, &r.loading_ns,
                           &r.steady_ns,    &r.tail_ns,    &r.idle_ns};
  for (size_t i = 0; i < std::size(ints); ++i) *ints[i] = a.at(3 + i).get<int64_t>();
  // Closes written before the energy flags existed have 16 fields.
  if (a.size() > 3 + std::size(ints)) r.energy_flags = a.at(3 + std::size(ints)).get<int64_t>();
  return r;
}

std::string Hex(const unsigned char* b, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[b[i] >> 4];
    out += kDigits[b[i] & 0xf];
  }
  return out;
}

using LineKey = std::pair<std::string, std::string>;  // (job, GPU model)
using LineCosts = std::map<LineKey, int64_t>;

LineCosts CostByLine(const std::vector<FrozenLine>& lines) {
  LineCosts m;
  for (const FrozenLine& l : lines) m[{l.job_id, l.gpu_model}] += l.cost_micros;
  return m;
}

std::vector<FrozenLine> LinesOf(const CostBook& book) {
  std::vector<FrozenLine> out;
  out.reserve(book.items.size());
  for (const CostItem& it : book.items) out.push_back({it.job_id, it.gpu_model, it.cost_micros, it.unpriced});
  return out;
}

// The month's live books at as_of, priced with today's price book, by (job, GPU model).
StatusOr<LineCosts> LiveLines(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of) {
  ASSIGN_OR_RETURN(MonthBooks books, MonthUsage(ledger, ctx, month, as_of));
  ASSIGN_OR_RETURN(CostBook cost, PriceUsage(books.rows, ctx.prices, /*share_idle=*/false));
  return CostByLine(LinesOf(cost));
}

}  // namespace

std::string SerializeClosedBooks(const ClosedBooks& b) {
  Json j;
  j["format"] = "gpuledger.closed-month";
  j["version"] = 1;
  j["month"] = b.month.ToString();
  j["closed_ms"] = b.closed_ms;
  j["currency"] = b.currency;
  j["timezone"] = b.timezone;
  j["window"] = Json::array({b.window.start, b.window.end});
  j["total_micros"] = b.total_micros;
  j["unallocated_micros"] = b.unallocated_micros;
  j["lines"] = Json::array();
  for (const FrozenLine& l : b.lines)
    j["lines"].push_back(Json::array({l.job_id, l.gpu_model, l.cost_micros, l.unpriced}));
  j["adjustments"] = Json::array();
  for (const Adjustment& a : b.adjustments) {
    j["adjustments"].push_back(Json::array({a.corrects.ToString(), a.job_id, a.gpu_model, a.cost_micros}));
  }
  j["prices"] = Json::array();
  for (const Price& p : b.prices) {
    j["prices"].push_back(
        Json::array({p.gpu_model, p.effective_from, p.micros_per_gpu_hour, p.micros_per_kwh, p.currency}));
  }
  j["rows"] = Json::array();
  for (const UsageRow& r : b.rows) j["rows"].push_back(RowJson(r));
  return j.dump();
}

StatusOr<ClosedBooks> ParseClosedBooks(const std::string& body) {
  try {
    const Json j = Json::parse(body);
    if (j.at("format") != "gpuledger.closed-month" || j.at("version") != 1) {
      return InvalidArgument("closed books: format " + j.at("format").dump() + " version " +
                             j.at("version").dump() + " is not gpuledger.closed-month version 1");
    }
    ClosedBooks b;
    ASSIGN_OR_RETURN(b.month, ParseYearMonth(j.at("month").get<std::string>()));
    b.closed_ms = j.at("closed_ms").get<int64_t>();
    b.currency = j.at("currency").get<std::string>();
    b.timezone = j.at("timezone").get<std::string>();
    b.window = {j.at("window").at(0).get<int64_t>(), j.at("window").at(1).get<int64_t>()};
    b.total_micros = j.at("total_micros").get<int64_t>();
    b.unallocated_micros = j.at("unallocated_micros").get<int64_t>();
    for (const Json& l : j.at("lines")) {
      b.lines.push_back({l.at(0).get<std::string>(), l.at(1).get<std::string>(), l.at(2).get<int64_t>(),
                         l.at(3).get<bool>()});
    }
    for (const Json& a : j.at("adjustments")) {
      Adjustment adj;
      ASSIGN_OR_RETURN(adj.corrects, ParseYearMonth(a.at(0).get<std::string>()));
      adj.job_id = a.at(1).get<std::string>();
      adj.gpu_model = a.at(2).get<std::string>();
      adj.cost_micros = a.at(3).get<int64_t>();
      b.adjustments.push_back(std::move(adj));
    }
    for (const Json& p : j.at("prices")) {
      b.prices.push_back({p.at(0).get<std::string>(), p.at(1).get<int64_t>(), p.at(2).get<int64_t>(),
                          p.at(3).get<int64_t>(), p.at(4).get<std::string>()});
    }
    for (const Json& r : j.at("rows")) b.rows.push_back(RowFrom(r));
    return b;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("closed books: ") + e.what());
  }
}

std::string BodyChecksum(const std::string& body) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  return Hex(h, sizeof h);
}

StatusOr<std::optional<ClosedBooks>> LoadClosedBooks(Ledger& ledger, YearMonth month) {
  ASSIGN_OR_RETURN(std::optional<MonthClose> rec, ledger.GetMonthClose(month.ToString()));
  if (!rec || !rec->closed) return std::optional<ClosedBooks>();
  const std::string sum = BodyChecksum(rec->body);
  if (sum != rec->checksum) {
    return Internal("closed month " + rec->month + ": its books' checksum is " + sum + ", recorded " +
                    rec->checksum + " at close: the frozen books were altered; not served");
  }
  auto books = ParseClosedBooks(rec->body);
  if (!books.ok()) return Internal("closed month " + rec->month + ": " + books.status().message());
  if (books->month != month || books->total_micros != rec->total_micros) {
    return Internal("closed month " + rec->month + ": the body is of month " + books->month.ToString() +
                    " with total " + std::to_string(books->total_micros) + " micros, recorded " +
                    std::to_string(rec->total_micros));
  }
  return std::optional<ClosedBooks>(std::move(*books));
}

StatusOr<std::vector<Adjustment>> PendingAdjustments(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                                     TimeMs as_of) {
  std::vector<Adjustment> out;
  ASSIGN_OR_RETURN(std::optional<ClosedBooks> self, LoadClosedBooks(ledger, month));
  if (self) return out;
  // The run of closed months just before `month`, latest first.
  std::vector<ClosedBooks> run;
  for (YearMonth c = month.Prev();; c = c.Prev()) {
    ASSIGN_OR_RETURN(std::optional<ClosedBooks> b, LoadClosedBooks(ledger, c));
    if (!b) break;
    run.push_back(std::move(*b));
  }
  for (size_t i = run.size(); i-- > 0;) {  // oldest first
    const ClosedBooks& c = run[i];
    ASSIGN_OR_RETURN(LineCosts diff, LiveLines(ledger, ctx, c.month, as_of));
    for (const auto& [key, cost] : CostByLine(c.lines)) diff[key] -= cost;
    for (size_t k = 0; k < i; ++k) {  // the closed months after c carried some already
      for (const Adjustment& a : run[k].adjustments) {
        if (a.corrects == c.month) diff[{a.job_id, a.gpu_model}] -= a.cost_micros;
      }
    }
    for (const auto& [key, cost] : diff) {
      if (cost != 0) out.push_back({c.month, key.first, key.second, cost});
    }
  }
  return out;
}

StatusOr<MonthClose> CloseMonth(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs now,
                                const AuditEntry& audit) {
  ASSIGN_OR_RETURN(Window w, ctx.tz.MonthWindow(month));
  if (w.end > now) {
    return FailedPrecondition("month " + month.ToString() + " ends at " + FormatTime(w.end) +
                              ", after now (" + FormatTime(now) + "): only an ended month can be closed");
  }
  MonthClose rec;
  Status st = ledger.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<MonthClose> prev, ledger.GetMonthClose(month.ToString()));
    if (prev && prev->closed) {
      return FailedPrecondition("month " + month.ToString() + " is closed already (at " +
                                FormatTime(prev->closed_ms) + ", checksum " + prev->checksum +
                                "); reopen it first");
    }
    ClosedBooks b;
    b.month = month;
    b.closed_ms = now;
    b.currency = ctx.prices.currency().code;
    b.timezone = ctx.tz.name();
    ASSIGN_OR_RETURN(b.adjustments, PendingAdjustments(ledger, ctx, month, now));
    ASSIGN_OR_RETURN(MonthBooks books, MonthUsage(ledger, ctx, month, now));
    b.window = books.window;
    b.rows = std::move(books.rows);
    std::sort(b.rows.begin(), b.rows.end(), [](const UsageRow& x, const UsageRow& y) {
      return std::tie(x.job_id, x.gpu_uuid, x.gpu_model, x.period_start) <
             std::tie(y.job_id, y.gpu_uuid, y.gpu_model, y.period_start);
    });
    ASSIGN_OR_RETURN(b.prices, ledger.ListPrices());
    std::sort(b.prices.begin(), b.prices.end(), [](const Price& x, const Price& y) {
      return std::tie(x.gpu_model, x.effective_from) < std::tie(y.gpu_model, y.effective_from);
    });
    ASSIGN_OR_RETURN(PriceBook frozen_prices, PriceBook::Create(ctx.prices.currency(), b.prices));
    ASSIGN_OR_RETURN(CostBook cost, PriceUsage(b.rows, frozen_prices, /*share_idle=*/false));
    b.lines = LinesOf(cost);
    b.total_micros = cost.total_micros;
    b.unallocated_micros = cost.unallocated_micros;
    rec.month = month.ToString();
    rec.closed = true;
    rec.closed_ms = now;
    rec.closed_by = audit.token_id.empty() ? audit.remote : "token " + audit.token_id;
    rec.total_micros = b.total_micros;
    rec.body = SerializeClosedBooks(b);
    rec.checksum = BodyChecksum(rec.body);
    RETURN_IF_ERROR(ledger.PutMonthClose(rec));
    AuditEntry e = audit;
    e.at_ms = now;
    e.detail = "close month=" + rec.month +
               " total=" + FormatMicros(b.total_micros, ctx.prices.currency().minor_digits) + " " +
               b.currency + " lines=" + std::to_string(b.lines.size()) +
               " adjustments=" + std::to_string(b.adjustments.size()) + " checksum=" + rec.checksum;
    return ledger.AppendAudit(e);
  });
  RETURN_IF_ERROR(st);
  return rec;
}

StatusOr<MonthClose> ReopenMonth(Ledger& ledger, YearMonth month, TimeMs now, const AuditEntry& audit,
                                 const std::string& reason) {
  if (reason.empty()) return InvalidArgument("reopen of month " + month.ToString() + ": give a reason");
  MonthClose rec;
  Status st = ledger.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<MonthClose> prev, ledger.GetMonthClose(month.ToString()));
    if (!prev || !prev->closed) return FailedPrecondition("month " + month.ToString() + " is not closed");
    ASSIGN_OR_RETURN(std::vector<MonthClose> all, ledger.ListMonthCloses(/*with_body=*/false));
    for (const MonthClose& later : all) {
      if (!later.closed || later.month <= prev->month) continue;
      ASSIGN_OR_RETURN(YearMonth lm, ParseYearMonth(later.month));
      ASSIGN_OR_RETURN(std::optional<ClosedBooks> lb, LoadClosedBooks(ledger, lm));
      if (!lb.has_value()) continue;
      for (const Adjustment& a : lb.value().adjustments) {
        if (a.corrects == month) {
          return FailedPrecondition("month " + month.ToString() + " cannot be reopened: closed month " +
                                    later.month + " carries corrections of it; reopen " + later.month +
                                    " first");
        }
      }
    }
    rec = *prev;
    rec.closed = false;
    rec.reopened_ms = now;
    rec.reopened_by = audit.token_id.empty() ? audit.remote : "token " + audit.token_id;
    rec.reopen_reason = reason;
    RETURN_IF_ERROR(ledger.PutMonthClose(rec));
    AuditEntry e = audit;
    e.at_ms = now;
    e.detail = "reopen month=" + rec.month + " reason=" + reason + " checksum was " + rec.checksum;
    return ledger.AppendAudit(e);
  });
  RETURN_IF_ERROR(st);
  rec.body.clear();
  return rec;
}

namespace {

Json CloseJson(const std::string& month, const std::string& state, const MonthClose* c, const Currency& cur) {
  Json j;
  j["month"] = month;
  j["state"] = state;
  auto opt = [](bool has, const std::string& v) { return has ? Json(v) : Json(nullptr); };
  j["closed_at"] = opt(c != nullptr, c ? FormatTime(c->closed_ms) : "");
  j["closed_by"] = opt(c != nullptr, c ? c->closed_by : "");
  j["total"] = opt(c != nullptr, c ? FormatMicros(c->total_micros, cur.minor_digits) : "");
  j["currency"] = cur.code;
  j["checksum"] = opt(c != nullptr, c ? c->checksum : "");
  const bool reopened = c != nullptr && c->reopened_ms != 0;
  j["reopened_at"] = opt(reopened, reopened ? FormatTime(c->reopened_ms) : "");
  j["reopened_by"] = opt(reopened, reopened ? c->reopened_by : "");
  j["reopen_reason"] = opt(reopened, reopened ? c->reopen_reason : "");
  return j;
}

}  // namespace

std::string RenderMonthStatesJson(const std::vector<MonthState>& months, const Currency& currency) {
  Json j;
  j["months"] = Json::array();
  for (const MonthState& m : months) {
    j["months"].push_back(CloseJson(m.month.ToString(), m.state, m.record ? &*m.record : nullptr, currency));
  }
  return j.dump(2) + "\n";
}

std::string RenderMonthCloseJson(const MonthClose& c, const Currency& currency) {
  return CloseJson(c.month, c.closed ? "closed" : "reopened", &c, currency).dump(2) + "\n";
}

StatusOr<std::vector<MonthState>> ListMonthStates(Ledger& ledger, const BooksContext& ctx, TimeMs now) {
  ASSIGN_OR_RETURN(std::vector<MonthClose> closes, ledger.ListMonthCloses(/*with_body=*/false));
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(now));
  std::optional<YearMonth> first;
  for (const Gpu& g : gpus) {
    if (g.in_service_from <= 0 || g.in_service_from > now) continue;
    ASSIGN_OR_RETURN(YearMonth m, ctx.tz.MonthOf(g.in_service_from));
    if (!first || m < *first) first = m;
  }
  std::map<YearMonth, MonthClose> by_month;
  for (MonthClose& c : closes) {
    ASSIGN_OR_RETURN(YearMonth m, ParseYearMonth(c.month));
    if (!first || m < *first) first = m;
    if (last < m) last = m;
    by_month.emplace(m, std::move(c));
  }
  std::vector<MonthState> out;
  if (!first) return out;
  for (YearMonth m = *first; m <= last; m = m.Next()) {
    MonthState s;
    s.month = m;
    auto it = by_month.find(m);
    if (it == by_month.end()) {
      s.state = "open";
    } else {
      s.state = it->second.closed ? "closed" : "reopened";
      s.record = it->second;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gpuledger
