#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  const gpuledger::SystemClock clock;
  return gpuledger::RunCli(argc, argv, clock, std::cout, std::cerr);
}
