// A cut's render page: the compare player (the source beside the render, both full length),
// the review status and the comments, each its own module as on a take's page.
import "./compare.js";
import "./comments.js";
import "./review.js";
