// Fetch: GETs the URL given as input and returns its status and body; the
// sandbox's network policy decides which hosts it may reach.
const response = await fetch(outlayer.input().trim());
outlayer.output({ status: response.status, body: await response.text() });
