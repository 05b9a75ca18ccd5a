// export: the month's (or a range's) books for machines, as CSV, JSON or FOCUS 1.2, or finance's XLSX
// workbook (docs/EXPORTS.md).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli/commands.h"
#include "cli/read_books.h"
#include "report/export.h"

namespace gpuledger {

namespace {
// The whole file or none: written beside it, then renamed over it.
Status WriteFileAtomically(const std::string& path, const std::string& body) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Unavailable("--out: cannot create '" + tmp + "': " + std::strerror(errno));
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      return Unavailable("--out: writing '" + tmp + "' failed: " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Unavailable("--out: cannot rename '" + tmp + "' to '" + path + "': " + why);
  }
  return OkStatus();
}
}  // namespace

Status CmdExport(const ExportArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ExportRequest req;
  ASSIGN_OR_RETURN(req.range, RangeArgs(a.from, a.to, a.grain, a.month, o.ctx.tz));
  if (!req.range) {
    ASSIGN_OR_RETURN(req.month, MonthOrLast(a.month, o.ctx.tz, as_of));
  }
  req.as_of = as_of;
  req.format = a.format;
  req.by = a.by;
  req.desensitised = a.desensitised;
  req.share_idle = a.share_idle;
  if (a.format == "xlsx") {
    if (a.out.empty()) return InvalidArgument("--format xlsx writes a file: give --out FILE.xlsx");
    req.xlsx_path = a.out + ".tmp";  // whole or not at all, as the other formats
    Status s = BuildExport(*o.ledger, o.ctx, req).status();
    if (s.ok() && std::rename(req.xlsx_path.c_str(), a.out.c_str()) != 0) {
      s = Unavailable("--out: cannot rename '" + req.xlsx_path + "' to '" + a.out +
                      "': " + std::strerror(errno));
    }
    if (!s.ok()) std::remove(req.xlsx_path.c_str());
    return s;
  }
  ASSIGN_OR_RETURN(ExportOutput e, BuildExport(*o.ledger, o.ctx, req));
  if (a.out.empty()) {
    out << e.body;
    return OkStatus();
  }
  return WriteFileAtomically(a.out, e.body);
}

}  // namespace gpuledger
