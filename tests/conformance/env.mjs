// What run.sh hands the conformance scripts: a required environment variable, or exit 2 saying
// which one is missing.
export const env = (name) => {
    const value = process.env[name];
    if (!value) {
        process.stderr.write(`${name} is not set (run this through tests/conformance/run.sh)\n`);
        process.exit(2);
    }
    return value;
};
