/**
 * The command-line programs each image carries (paths relative to the image's WORKDIR), in one place.
 * The image check runs `--help` of each as the image's user, and fails when an image carries a program
 * that is not listed here (see entryPoints) or lacks one that is. Services (the default CMD of
 * ingress and worker) are not listed: the check starts them against the local stack.
 */
export const IMAGE_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  producer: ['producer/dist/cli.js'],
  ingress: ['ingress/dist/teardown.js'],
  worker: ['worker/dist/teardown.js'],
};
