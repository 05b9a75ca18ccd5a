# Writes OUT, a C++ file defining FUNC() that returns the migrations in SQL_DIR as raw
# string literals, numbered by their file name prefix (0001_init.sql -> 1). Run with
# cmake -P.
file(GLOB files "${SQL_DIR}/*.sql")
list(SORT files)
set(body "// Generated from ${SQL_DIR}/*.sql by cmake/EmbedSql.cmake. Do not edit.\n#include \"ledger/migrations.h\"\n\nnamespace gpuledger {\n\nconst std::vector<Migration>& ${FUNC}() {\n  static const std::vector<Migration> kMigrations = {\n")
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  string(REGEX MATCH "^[0-9]+" num "${name}")
  math(EXPR version "${num}")
  file(READ "${f}" sql)
  string(APPEND body "      {${version}, \"${name}\", R\"gpuledgersql(${sql})gpuledgersql\"},\n")
endforeach()
string(APPEND body "  };\n  return kMigrations;\n}\n\n}  // namespace gpuledger\n")
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
