// The object-store settings as options of `aerodb-repl` itself, accepted by
// every subcommand (specs/REPLICATION_OBJECT_STORE.md OBJ-30): the endpoint,
// the region and path-style addressing. Never credentials (OBJ-2, OBJ-3).
#include "cli/aerodb-repl/commands.h"
#include "s3/s3_config.h"

namespace aero::cli {

void AddS3Options(CLI::App& app) {
  static s3::S3Flags flags;  // one command line per process
  app.add_option_function<std::string>(
         "--s3-endpoint",
         [](const std::string& v) {
           flags.endpoint = v;
           s3::SetS3Flags(flags);  // OBJ-30: beats AERODB_S3_ENDPOINT and the config file
         },
         "for s3:// archives: the store's URL (default: AERODB_S3_ENDPOINT, the config file, AWS)")
      ->type_name("URL");
  app.add_option_function<std::string>(
         "--s3-region",
         [](const std::string& v) {
           flags.region = v;
           s3::SetS3Flags(flags);
         },
         "for s3:// archives: the region (default: AERODB_S3_REGION, the config file, us-east-1)")
      ->type_name("REGION");
  app.add_flag_callback(
      "--s3-path-style",
      [] {
        flags.path_style = true;
        s3::SetS3Flags(flags);
      },
      "for s3:// archives: address the bucket in the path (default: on with an endpoint)");
}

}  // namespace aero::cli
