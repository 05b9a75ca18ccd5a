// gpuledger job report: one job's efficiency report (report/job_report.h).
#include <ostream>

#include "cli/commands.h"
#include "cli/read_books.h"
#include "report/job_report.h"

namespace gpuledger {

Status CmdJobReport(const JobReportArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(Lang lang, ParseLang(a.lang));
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(std::optional<Job> job, o.ledger->GetJob(a.id));
  if (!job) return NotFound("no job '" + a.id + "' in the ledger");
  ASSIGN_OR_RETURN(JobReport r, BuildJobReport(*o.ledger, o.ctx, *job, as_of, lang));
  out << (a.format == "json" ? RenderJobReportJson(r) : RenderJobReportText(r));
  return OkStatus();
}

}  // namespace gpuledger
