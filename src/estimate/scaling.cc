#include "estimate/scaling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace gpuledger {

namespace {

constexpr const char* kNames[kFactors] = {"images", "imgsz", "batch", "AMP", "GPUs"};
constexpr double kLow[kFactors] = {0.5, 0.5, -1.0, -1.2039728043259361 /* ln 0.3 */, -0.5};
constexpr double kHigh[kFactors] = {1.5, 3.0, 1.0, 0.4054651081081644 /* ln 1.5 */, 1.0};

// Solves a x = b (n <= kFactors) by Gaussian elimination with partial pivoting; false
// when singular.
bool Solve(std::vector<std::vector<double>> a, std::vector<double> b, std::vector<double>& x) {
  const size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    }
    if (std::abs(a[p][c]) < 1e-12) return false;
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  x.assign(n, 0);
  for (size_t c = n; c-- > 0;) {
    double s = b[c];
    for (size_t k = c + 1; k < n; ++k) s -= a[c][k] * x[k];
    x[c] = s / a[c][c];
  }
  return true;
}

}  // namespace

ScalingPoint MakeScalingPoint(double images, double imgsz, double batch, bool amp, double gpus) {
  ScalingPoint p;
  const double v[kFactors] = {images, imgsz, batch, amp ? 1.0 : 0.0, gpus};
  for (int k = 0; k < kFactors; ++k) {
    const bool binary = k == static_cast<int>(Factor::kAmp);
    p.known[static_cast<size_t>(k)] = binary || v[k] > 0;
    p.x[static_cast<size_t>(k)] = binary ? v[k] : (v[k] > 0 ? std::log(v[k]) : 0);
  }
  return p;
}

double ScalingModel::Scale(const ScalingPoint& from, const ScalingPoint& to) const {
  double s = 0;
  for (size_t k = 0; k < kFactors; ++k) {
    if (from.known[k] && to.known[k]) s += beta[k] * (to.x[k] - from.x[k]);
  }
  return std::exp(s);
}

std::string ScalingModel::Describe() const {
  std::string out;
  for (size_t k = 0; k < kFactors; ++k) {
    char buf[96];
    if (k == static_cast<size_t>(Factor::kAmp)) {
      std::snprintf(buf, sizeof buf, "AMP x%.2f", std::exp(beta[k]));
    } else {
      std::snprintf(buf, sizeof buf, "%s^%.2f", kNames[k], beta[k]);
    }
    out += (out.empty() ? "" : ", ") + std::string(buf) + (fitted[k] ? " (fitted)" : " (prior)");
  }
  return out + (runs > 0 ? ", fitted on " + std::to_string(runs) + " runs" : "");
}

ScalingModel FitScaling(const std::vector<ScalingPoint>& points, int min_runs) {
  ScalingModel m;
  // Which factors the points support: two values with min_runs points each, among the
  // points that know every factor considered.
  std::vector<size_t> use;
  for (size_t k = 0; k < kFactors; ++k) {
    std::map<long long, int> per_value;
    for (const ScalingPoint& p : points) {
      if (p.known[k]) ++per_value[std::llround(p.x[k] * 1e6)];
    }
    int supported = 0;
    for (const auto& [v, n] : per_value) supported += n >= min_runs ? 1 : 0;
    if (supported >= 2) use.push_back(k);
  }
  if (use.empty()) return m;
  std::vector<const ScalingPoint*> fit;
  for (const ScalingPoint& p : points) {
    if (std::all_of(use.begin(), use.end(), [&](size_t k) { return p.known[k]; })) fit.push_back(&p);
  }
  if (static_cast<int>(fit.size()) < 2 * min_runs) return m;
  // Centred least squares of y minus the fixed factors' part on the fitted factors, with
  // a small ridge toward the priors so collinear factors (a site that always pairs batch 8
  // with imgsz 1280) stay at them rather than trade off without bound.
  const size_t n = use.size();
  auto residual = [&](const ScalingPoint& p) {
    double r = p.y;
    for (size_t k = 0; k < kFactors; ++k) {
      if (std::find(use.begin(), use.end(), k) == use.end() && p.known[k]) r -= m.beta[k] * p.x[k];
    }
    return r;
  };
  std::vector<double> mean_x(n, 0);
  double mean_y = 0;
  for (const ScalingPoint* p : fit) {
    for (size_t i = 0; i < n; ++i) mean_x[i] += p->x[use[i]];
    mean_y += residual(*p);
  }
  const auto count = static_cast<double>(fit.size());
  for (double& v : mean_x) v /= count;
  mean_y /= count;
  constexpr double kRidge = 0.01;
  std::vector<std::vector<double>> a(n, std::vector<double>(n, 0));
  std::vector<double> b(n, 0);
  for (size_t i = 0; i < n; ++i) {
    a[i][i] = kRidge;
    b[i] = kRidge * m.beta[use[i]];
  }
  for (const ScalingPoint* p : fit) {
    const double y = residual(*p) - mean_y;
    for (size_t i = 0; i < n; ++i) {
      const double xi = p->x[use[i]] - mean_x[i];
      b[i] += xi * y;
      for (size_t j = 0; j < n; ++j) a[i][j] += xi * (p->x[use[j]] - mean_x[j]);
    }
  }
  std::vector<double> beta;
  if (!Solve(a, b, beta)) return m;
  for (size_t i = 0; i < n; ++i) {
    m.beta[use[i]] = std::clamp(beta[i], kLow[use[i]], kHigh[use[i]]);
    m.fitted[use[i]] = true;
  }
  m.runs = static_cast<int>(fit.size());
  return m;
}

}  // namespace gpuledger
