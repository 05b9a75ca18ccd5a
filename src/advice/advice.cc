#include "advice/advice.h"

#include <cmath>

namespace gpuledger {

namespace {

std::string Pct(double f) { return std::to_string(static_cast<int>(std::lround(f * 100))) + " %"; }

std::string Gib(int64_t mib) {
  const double g = static_cast<double>(mib) / 1024.0;
  const auto tenths = static_cast<int64_t>(std::lround(g * 10));
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " GiB";
}

}  // namespace

std::string_view LangName(Lang l) { return l == Lang::kZh ? "zh" : "en"; }

std::vector<Advice> Advise(const RunFacts& f, Lang lang) {
  const bool zh = lang == Lang::kZh;
  std::vector<Advice> out;

  // 1. The data loader: a long loading phase (with a busy CPU where the agent saw it), or
  // a GPU that keeps waiting between dense steps in the steady phase.
  const bool long_loading =
      f.sampled && f.loading_share >= kLongLoadingShare && (!f.cpu_busy || *f.cpu_busy >= kBusyCpu);
  const bool starved = f.sampled && f.steady_density > 0 && f.steady_density < kStarvedSteadyDensity;
  if (long_loading || starved) {
    std::string ev;
    if (long_loading) {
      ev = zh ? "加载阶段占 GPU 时间的 " + Pct(f.loading_share)
              : "the loading phase took " + Pct(f.loading_share) + " of the GPU time";
      if (f.cpu_busy)
        ev += zh ? "，CPU 忙碌 " + Pct(*f.cpu_busy) : ", with the CPU " + Pct(*f.cpu_busy) + " busy";
    }
    if (starved) {
      if (!ev.empty()) ev += zh ? "；" : "; ";
      ev += zh ? "稳定阶段只有 " + Pct(f.steady_density) + " 的时间 GPU 利用率高于 70 %"
               : "in the steady phase the GPU was above 70 % only " + Pct(f.steady_density) + " of the time";
    }
    out.push_back({"data_loader",
                   zh ? "GPU 在等数据：数据加载是瓶颈。增加 DataLoader 进程（Ultralytics 的 workers=），"
                        "缓存数据集（cache=ram 或 cache=disk），把数据放到本地 SSD。"
                      : "The GPU waits for data: the data loader is the bottleneck. Raise the loader's "
                        "workers (Ultralytics workers=), cache the dataset (cache=ram or cache=disk), and "
                        "keep it on local SSD.",
                   ev});
  }

  // 2. Low memory use: a larger batch fits.
  if (f.sampled && f.gpu_memory_mib > 0 && f.peak_mem_mib > 0 &&
      static_cast<double>(f.peak_mem_mib) < kLowMemoryShare * static_cast<double>(f.gpu_memory_mib)) {
    const std::string ev =
        (zh ? "显存峰值 " : "peak memory ") + Gib(f.peak_mem_mib) + (zh ? "，共 " : " of ") +
        Gib(f.gpu_memory_mib) +
        (f.has_run_args && f.batch > 0 ? (zh ? "，batch=" : ", batch=") + std::to_string(f.batch) : "");
    const std::string next = f.has_run_args && f.batch > 0 ? std::to_string(f.batch * 2) : "";
    out.push_back({"larger_batch",
                   zh ? "显存用了不到一半：加大 batch" + (next.empty() ? "" : "（例如 batch=" + next + "）") +
                            "，或用 batch=-1 让 Ultralytics 自动选择，每个 epoch 更快。"
                      : "Less than half the GPU memory is used: a larger batch" +
                            (next.empty() ? "" : " (batch=" + next + ")") +
                            " fits, or batch=-1 lets Ultralytics choose; each epoch gets faster.",
                   ev});
  }

  // 3. AMP off.
  if (f.has_run_args && !f.amp) {
    out.push_back({"enable_amp",
                   zh ? "混合精度（AMP）未开启：设置 amp=True，通常更快且显存更少，精度基本不变。"
                      : "Mixed precision (AMP) is off: set amp=True; it is usually faster and uses less "
                        "memory for about the same accuracy.",
                   zh ? "运行参数 amp=False" : "the run's arguments have amp=False"});
  }

  // 4. A long tail: the job holds the GPU after it stopped learning.
  const bool long_tail = f.sampled && f.tail_share >= kLongTailShare;
  const bool early_best = f.best_epoch && f.epochs_done >= kMinEpochsForBestEpochRule &&
                          *f.best_epoch <= kEarlyBestEpochShare * f.epochs_done;
  if (long_tail || early_best) {
    std::string ev;
    if (long_tail) {
      ev = zh ? "收敛尾段（最后一次高利用率之后）占 GPU 时间的 " + Pct(f.tail_share)
              : "the tail after the last dense step took " + Pct(f.tail_share) + " of the GPU time";
    }
    if (early_best) {
      if (!ev.empty()) ev += zh ? "；" : "; ";
      ev += zh ? "最佳 epoch 是第 " + std::to_string(*f.best_epoch) + " 个，共跑了 " +
                     std::to_string(f.epochs_done) + " 个"
               : "the best epoch was " + std::to_string(*f.best_epoch) + " of " +
                     std::to_string(f.epochs_done) + " run";
    }
    const std::string fewer = f.best_epoch ? std::to_string(*f.best_epoch + *f.best_epoch / 5 + 1) : "";
    out.push_back({"early_stopping",
                   zh ? "训练后段没有再提升：用早停（patience=，例如 patience=20）或减少 epochs" +
                            (fewer.empty() ? "" : "（例如 epochs=" + fewer + "）") + "。"
                      : "The run stopped improving well before its end: use early stopping (patience=, e.g. "
                        "patience=20) or fewer epochs" +
                            (fewer.empty() ? "" : " (e.g. epochs=" + fewer + ")") + ".",
                   ev});
  }
  return out;
}

}  // namespace gpuledger
