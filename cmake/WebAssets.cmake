# The dashboard (web/, docs/DASHBOARD.md): `npm ci` installs web/package-lock.json's
# packages into the build tree, esbuild bundles web/src into one script, and
# web/embed.mjs writes the page, the script and the style sheet into a C++ source
# (web_assets.cc) that the server library compiles in and serves at `/`.
# GPULEDGER_WEB=OFF (the tsan and fuzz trees): no npm, and a table with no assets
# (`/` then answers 404 saying the binary was built without the dashboard).
option(GPULEDGER_WEB "Build the dashboard with npm and esbuild and embed it in gpuledger" ON)

set(GPULEDGER_WEB_DIR ${CMAKE_BINARY_DIR}/web)
set(GPULEDGER_WEB_ASSETS_CC ${GPULEDGER_WEB_DIR}/web_assets.cc)

if(GPULEDGER_WEB)
  find_program(GPULEDGER_NPM npm REQUIRED)
  find_program(GPULEDGER_NODE node REQUIRED)
  set(web_src ${PROJECT_SOURCE_DIR}/web)
  file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web_src}/src/*.js ${web_src}/src/*.css)
  set(stamp ${GPULEDGER_WEB_DIR}/node_modules/.package-lock.json)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${GPULEDGER_WEB_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy ${web_src}/package.json ${web_src}/package-lock.json ${GPULEDGER_WEB_DIR}
    COMMAND ${GPULEDGER_NPM} ci --no-audit --no-fund --loglevel=error --prefix ${GPULEDGER_WEB_DIR}
    DEPENDS ${web_src}/package.json ${web_src}/package-lock.json
    COMMENT "npm ci (web/package-lock.json)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${GPULEDGER_WEB_ASSETS_CC} ${GPULEDGER_WEB_DIR}/dist/app.js
    COMMAND ${CMAKE_COMMAND} -E env NODE_PATH=${GPULEDGER_WEB_DIR}/node_modules
            ${GPULEDGER_WEB_DIR}/node_modules/.bin/esbuild ${web_src}/src/main.js --bundle --minify
            --format=iife --target=es2020 --log-level=warning --outfile=${GPULEDGER_WEB_DIR}/dist/app.js
    COMMAND ${GPULEDGER_NODE} ${web_src}/embed.mjs ${GPULEDGER_WEB_ASSETS_CC}
            index.html=${web_src}/index.html
            app.js=${GPULEDGER_WEB_DIR}/dist/app.js
            app.css=${web_src}/src/style.css
    DEPENDS ${stamp} ${web_sources} ${web_src}/index.html ${web_src}/embed.mjs
    COMMENT "esbuild: the dashboard bundle, embedded"
    VERBATIM)
else()
  file(WRITE ${GPULEDGER_WEB_ASSETS_CC}.tmp
       "// Generated (GPULEDGER_WEB=OFF): no dashboard in this build.\n"
       "#include \"server/web_assets.h\"\nnamespace gpuledger {\n"
       "const std::vector<WebAsset>& WebAssets() { static const std::vector<WebAsset> none; return none; }\n"
       "}  // namespace gpuledger\n")
  file(COPY_FILE ${GPULEDGER_WEB_ASSETS_CC}.tmp ${GPULEDGER_WEB_ASSETS_CC} ONLY_IF_DIFFERENT)
endif()
