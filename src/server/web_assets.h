// The dashboard's files compiled into the binary (cmake/WebAssets.cmake writes
// web_assets.cc from web/); empty in a build with GPULEDGER_WEB=OFF.
#pragma once

#include <cstddef>
#include <vector>

namespace gpuledger {

struct WebAsset {
  const char* path;          // "/index.html", "/app.js", "/app.css"
  const char* content_type;  // with its charset
  const unsigned char* data;
  size_t size;
};
const std::vector<WebAsset>& WebAssets();

}  // namespace gpuledger
